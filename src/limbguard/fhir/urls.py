from django.urls import path

from limbguard.fhir import views

app_name = "fhir"
urlpatterns = [
    path("imports/", views.upload, name="upload"),
    path("imports/<int:job_id>/", views.job, name="job"),
]
