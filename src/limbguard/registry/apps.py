from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "limbguard.registry"
    label = "registry"
    verbose_name = "Patient registry"
