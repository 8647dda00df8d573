from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Project-wide commands (`serve`, `demo`) live in this app's management folder."""

    name = "limbguard.config"
    label = "limbguard"
    verbose_name = "LimbGuard"
