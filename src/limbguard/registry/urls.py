from django.urls import path

from limbguard.registry import views

app_name = "registry"
urlpatterns = [
    path("", views.patient_list, name="patient_list"),
    path("new/", views.patient_create, name="patient_create"),
    path("<int:patient_id>/", views.patient_chart, name="patient_chart"),
    path("<int:patient_id>/edit/", views.patient_edit, name="patient_edit"),
    path("<int:patient_id>/problems/new/", views.problem_add, name="problem_add"),
    path(
        "<int:patient_id>/problems/<int:problem_id>/retire/",
        views.problem_retire,
        name="problem_retire",
    ),
    path("<int:patient_id>/risk/", views.risk_edit, name="risk_edit"),
    path("<int:patient_id>/labs/new/", views.lab_add, name="lab_add"),
    path("<int:patient_id>/limbs/<str:side>/", views.limb_edit, name="limb_edit"),
]
