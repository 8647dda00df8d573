from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from limbguard.intake import public_views

urlpatterns = [
    # First: an EHR's CDS Hooks calls are the most frequent and most time-bound requests,
    # and Django tries the patterns in order.
    path("", include("limbguard.cdshooks.urls")),
    path("", public_views.home, name="home"),  # public home; signed-in staff go to their work
    path("", include("limbguard.intake.public_urls")),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("patients/", include("limbguard.registry.urls")),
    path("centers/", include("limbguard.clinics.urls")),
    path("assessments/", include("limbguard.assessments.urls")),
    path("treatment/", include("limbguard.treatment.urls")),
    path("outcomes/", include("limbguard.outcomes.urls")),
    path("intake/", include("limbguard.intake.urls")),
    path("schedule/", include("limbguard.scheduling.urls")),
    path("fhir/", include("limbguard.fhir.urls")),
    path("audit/", include("limbguard.accounts.urls")),
    path("admin/", admin.site.urls),
]
