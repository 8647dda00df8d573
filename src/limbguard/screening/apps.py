from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "limbguard.screening"
    label = "screening"
    verbose_name = "Population screening"
