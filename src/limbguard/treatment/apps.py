from django.apps import AppConfig


class TreatmentConfig(AppConfig):
    name = "limbguard.treatment"
    label = "treatment"
    verbose_name = "Treatment"
