from django.urls import URLPattern

app_name = "treatment"
urlpatterns: list[URLPattern] = []
