"""The offline bank transfer is called "transfer" (PORTAL_PAYMENT_PROVIDERS): rows written under
its old name "offline" are renamed, so that a bank reference confirmed before the rename is
still recognised as confirmed (the (provider, event_id) UNIQUE constraint) and never booked
twice."""

from django.db import migrations


def rename(apps, schema_editor, old="offline", new="transfer"):
    for model in ("Payment", "PaymentEvent"):
        apps.get_model("afterschool", model).objects.filter(provider=old).update(provider=new)


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, old="transfer", new="offline")


class Migration(migrations.Migration):
    dependencies = [("afterschool", "0002_fees_lessons_operations")]

    operations = [migrations.RunPython(rename, rename_back)]
