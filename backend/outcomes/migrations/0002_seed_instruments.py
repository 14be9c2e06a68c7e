from django.db import migrations

from backend.outcomes.seed import seed_instruments


def seed(apps, schema_editor):
    get = lambda name: apps.get_model("outcomes", name)  # noqa: E731
    seed_instruments(get("Instrument"), get("InstrumentOption"), get("InstrumentItem"), get("InstrumentBand"))


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
