from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "limbguard.intake"
    label = "intake"
    verbose_name = "Public intake and triage"
