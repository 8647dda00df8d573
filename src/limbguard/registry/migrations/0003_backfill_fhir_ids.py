# Backfill: every existing record gets its own FHIR id (add-nullable -> backfill -> enforce).

import uuid

from django.db import migrations


def backfill(apps, schema_editor):
    for name in ("Patient", "Problem", "LabResult"):
        model = apps.get_model("registry", name)
        rows = list(model.objects.filter(fhir_id__isnull=True).only("pk"))
        for row in rows:
            row.fhir_id = str(uuid.uuid4())
        model.objects.bulk_update(rows, ["fhir_id"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0002_fhir_records"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
