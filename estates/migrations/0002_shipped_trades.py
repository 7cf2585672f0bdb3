"""The shipped list of contractor trades. Runs once; administrators edit it afterwards."""

from django.db import migrations

TRADES = [
    ("civil", "土建"),
    ("plumbing_electrical", "水电"),
    ("waterproofing", "防水"),
    ("doors_windows", "门窗"),
    ("fit_out", "精装修"),
    ("lifts", "电梯"),
    ("fire", "消防"),
    ("landscaping", "园林"),
    ("low_voltage", "弱电智能化"),
    ("gas", "燃气"),
    ("hvac", "暖通空调"),
]


def create_trades(apps, schema_editor):
    Trade = apps.get_model("estates", "Trade")
    for code, name in TRADES:
        Trade.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("estates", "0001_initial")]
    operations = [migrations.RunPython(create_trades, migrations.RunPython.noop)]
