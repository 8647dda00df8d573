from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "limbguard.assessments"
    label = "assessments"
    verbose_name = "Vascular assessments and pathway"
