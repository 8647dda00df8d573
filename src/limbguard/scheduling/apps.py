from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "limbguard.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"
