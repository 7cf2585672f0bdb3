from django.db import migrations


def forwards(apps, schema_editor):
    from plugins.cases.defaults import create_all

    create_all(apps)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
