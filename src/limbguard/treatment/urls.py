from django.urls import include, path

from limbguard.treatment import views

app_name = "treatment"
urlpatterns = [
    path(
        "patients/<int:patient_id>/limbs/<str:side>/amputation/",
        views.amputation,
        name="amputation",
    ),
    path(
        "patients/<int:patient_id>/limbs/<str:side>/review/",
        views.review,
        name="review",
    ),
    path("", include("limbguard.treatment.log_urls")),  # issue 6: procedure log, care team
]
