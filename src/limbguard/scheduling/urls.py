from django.urls import path

from limbguard.scheduling import views

app_name = "scheduling"
urlpatterns = [
    path("", views.calendar_view, name="calendar"),
    path("slots/", views.slot_search, name="slots"),
    path("book/", views.book, name="book"),
    path("appointments/<int:appointment_id>/", views.appointment_detail, name="appointment"),
    path(
        "appointments/<int:appointment_id>/cancel/",
        views.appointment_cancel,
        name="appointment_cancel",
    ),
    path(
        "appointments/<int:appointment_id>/move/",
        views.appointment_reschedule,
        name="appointment_reschedule",
    ),
    path(
        "appointments/<int:appointment_id>/attendance/",
        views.appointment_attendance,
        name="appointment_attendance",
    ),
    path(
        "appointments/<int:appointment_id>/invite.ics",
        views.appointment_invite,
        name="appointment_invite",
    ),
    path("waitlist/", views.waitlist, name="waitlist"),
    # Public, by private link (no sign-in).
    path("a/<str:token>/", views.public_appointment, name="public_appointment"),
    path("a/<str:token>/invite.ics", views.public_appointment_ics, name="public_appointment_ics"),
    path("offer/<str:token>/", views.public_offer, name="public_offer"),
]
