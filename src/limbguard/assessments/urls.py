from django.urls import path

from limbguard.assessments import views

app_name = "assessments"
urlpatterns = [
    path("limbs-at-risk/", views.worklist, name="worklist"),
    path("patients/<int:patient_id>/limb-status/", views.chart_section, name="chart_section"),
    path("patients/<int:patient_id>/limbs/<str:side>/", views.limb_detail, name="limb"),
    path(
        "patients/<int:patient_id>/limbs/<str:side>/new/",
        views.assessment_new,
        name="new",
    ),
    path(
        "patients/<int:patient_id>/limbs/<str:side>/preview/",
        views.assessment_preview,
        name="preview",
    ),
    path(
        "patients/<int:patient_id>/<int:assessment_id>/",
        views.assessment_detail,
        name="detail",
    ),
    path(
        "patients/<int:patient_id>/<int:assessment_id>/edit/",
        views.assessment_edit,
        name="edit",
    ),
    path(
        "patients/<int:patient_id>/<int:assessment_id>/retire/",
        views.assessment_retire,
        name="retire",
    ),
    path(
        "patients/<int:patient_id>/<int:assessment_id>/<str:kind>/add/",
        views.finding_add,
        name="finding_add",
    ),
    path(
        "patients/<int:patient_id>/<int:assessment_id>/<str:kind>/<int:finding_id>/retire/",
        views.finding_retire,
        name="finding_retire",
    ),
    path(
        "patients/<int:patient_id>/<int:assessment_id>/wounds/",
        views.wound_record,
        name="wound_record",
    ),
    path(
        "patients/<int:patient_id>/wounds/<int:wound_id>/",
        views.wound_detail,
        name="wound_detail",
    ),
    path(
        "patients/<int:patient_id>/wounds/<int:wound_id>/healed/",
        views.wound_healed,
        name="wound_healed",
    ),
    path(
        "patients/<int:patient_id>/observations/<int:observation_id>/retire/",
        views.observation_retire,
        name="observation_retire",
    ),
    path(
        "patients/<int:patient_id>/photos/<int:photo_id>/retire/",
        views.photo_retire,
        name="photo_retire",
    ),
    path(
        "patients/<int:patient_id>/photos/<int:photo_id>/<str:variant>/",
        views.photo,
        name="photo",
    ),
]
