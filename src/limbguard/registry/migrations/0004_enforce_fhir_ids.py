# Enforce: FHIR ids are now set on every row; make them required and unique.

import django.core.validators
import limbguard.registry.models
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_backfill_fhir_ids"),
    ]

    operations = [
        migrations.AlterField(
            model_name="patient",
            name="fhir_id",
            field=models.CharField(
                default=limbguard.registry.models.new_fhir_id,
                max_length=64,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[A-Za-z0-9.-]{1,64}$", "FHIR id: 1–64 letters, digits, - or ."
                    )
                ],
                verbose_name="FHIR id",
            ),
        ),
        migrations.AlterField(
            model_name="problem",
            name="fhir_id",
            field=models.CharField(
                default=limbguard.registry.models.new_fhir_id,
                max_length=64,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[A-Za-z0-9.-]{1,64}$", "FHIR id: 1–64 letters, digits, - or ."
                    )
                ],
                verbose_name="FHIR id",
            ),
        ),
        migrations.AlterField(
            model_name="labresult",
            name="fhir_id",
            field=models.CharField(
                default=limbguard.registry.models.new_fhir_id,
                max_length=64,
                unique=True,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[A-Za-z0-9.-]{1,64}$", "FHIR id: 1–64 letters, digits, - or ."
                    )
                ],
                verbose_name="FHIR id",
            ),
        ),
    ]
