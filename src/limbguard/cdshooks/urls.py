"""The spec's paths exactly, under the site root: `{baseUrl}/cds-services[/{id}[/feedback]]`
(no trailing slash; `aud` is compared with these URLs character for character)."""

from django.urls import path

from limbguard.cdshooks import views

app_name = "cdshooks"
urlpatterns = [
    path("cds-services", views.discovery, name="discovery"),
    path("cds-services/<slug:service_id>", views.service, name="service"),
    path("cds-services/<slug:service_id>/feedback", views.feedback, name="feedback"),
]
