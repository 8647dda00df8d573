from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "limbguard.accounts"
    label = "accounts"
    verbose_name = "Accounts and audit trail"

    def ready(self) -> None:
        from limbguard.accounts import signals
        from limbguard.accounts.roles import sync_roles_after_migrate

        signals.connect()
        post_migrate.connect(sync_roles_after_migrate, sender=self)
