from django.urls import path

from limbguard.intake import views

app_name = "intake"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("triage/", views.triage_queue, name="triage"),
    path("unread/", views.unread_badge, name="unread"),
    path("book/", views.book, name="book"),
    path("<int:request_id>/", views.detail, name="detail"),
    path("<int:request_id>/thread/", views.thread, name="thread"),
    path("<int:request_id>/reply/", views.reply, name="reply"),
    path("<int:request_id>/assign/", views.triage, name="assign"),
    path("<int:request_id>/status/", views.set_status, name="status"),
    path("<int:request_id>/convert/", views.convert, name="convert"),
    path(
        "<int:request_id>/attachments/<int:attachment_id>/",
        views.attachment,
        name="attachment",
    ),
]
