"""Routes of the procedure log, outcome events, follow-up and care team (issue 6);
included by treatment/urls.py, so the names live in the "treatment" namespace."""

from django.urls import path

from limbguard.treatment import log_views

urlpatterns = [
    path("care-team/", log_views.worklist, name="worklist"),
    path("follow-up/", log_views.followups, name="followups"),
    path("patients/<int:patient_id>/", log_views.patient_treatment, name="patient"),
    path(
        "patients/<int:patient_id>/limbs/<str:side>/procedures/new/",
        log_views.procedure_new,
        name="procedure_new",
    ),
    path("patients/<int:patient_id>/events/new/", log_views.event_new, name="event_new"),
    path("patients/<int:patient_id>/follow-up/new/", log_views.followup_new, name="followup_new"),
    path("patients/<int:patient_id>/tasks/new/", log_views.task_new, name="task_new"),
    path(
        "patients/<int:patient_id>/tasks/suggested/",
        log_views.task_suggested,
        name="task_suggested",
    ),
    path(
        "patients/<int:patient_id>/tasks/<int:task_id>/close/",
        log_views.task_close,
        name="task_close",
    ),
]
