from django.urls import path

from limbguard.outcomes import views

app_name = "outcomes"
urlpatterns = [
    path("", views.analytics, name="analytics"),
    path("outcomes.csv", views.analytics_csv, name="csv"),
    path("report.pdf", views.analytics_pdf, name="pdf"),
]
