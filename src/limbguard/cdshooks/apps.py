from django.apps import AppConfig


class CdsHooksConfig(AppConfig):
    name = "limbguard.cdshooks"
    label = "cdshooks"
    verbose_name = "CDS Hooks service"
