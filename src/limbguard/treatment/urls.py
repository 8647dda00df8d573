from django.urls import path

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
]
