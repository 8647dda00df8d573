"""The public site at the root: no sign-in."""

from django.urls import path

from limbguard.intake import public_views

app_name = "public"
urlpatterns = [
    path("visit/", public_views.public_form, {"page": "visit"}, name="visit"),
    path("refer/", public_views.public_form, {"page": "referral"}, name="referral"),
    path("contact/", public_views.public_form, {"page": "contact"}, name="contact"),
    path("r/<str:token>/", public_views.conversation, name="conversation"),
    path("r/<str:token>/thread/", public_views.conversation_thread, name="conversation_thread"),
]
