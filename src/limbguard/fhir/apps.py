from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "limbguard.fhir"
    label = "fhir"
    verbose_name = "FHIR import and export"
