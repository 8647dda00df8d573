from django.apps import AppConfig


class ClinicsConfig(AppConfig):
    name = "limbguard.clinics"
    label = "clinics"
    verbose_name = "Centers"
