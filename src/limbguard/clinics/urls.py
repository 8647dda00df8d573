from django.urls import path

from limbguard.clinics import views

app_name = "clinics"
urlpatterns = [path("", views.center_list, name="center_list")]
