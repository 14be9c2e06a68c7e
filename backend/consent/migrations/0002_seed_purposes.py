"""Seed the consent purposes Rapport's own rules depend on (backend/consent/catalogue.py)."""

from django.db import migrations

from backend.consent.catalogue import seed_catalogue


def seed(apps, schema_editor):
    seed_catalogue(apps.get_model("consent", "ConsentPurpose"), apps.get_model("consent", "ConsentWording"))


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
