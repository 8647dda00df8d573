from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "limbguard.outcomes"
    label = "outcomes"
    verbose_name = "Outcomes"
