from django.urls import URLPattern

app_name = "cdshooks"
urlpatterns: list[URLPattern] = []
