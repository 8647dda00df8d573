from django.apps import AppConfig


class CdsHooksConfig(AppConfig):
    name = "limbguard.cdshooks"
    label = "cdshooks"
    verbose_name = "CDS Hooks service"

    def ready(self) -> None:
        from limbguard.cdshooks.conf import check_configuration

        check_configuration()
