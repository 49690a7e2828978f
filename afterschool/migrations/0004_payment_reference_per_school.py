"""A provider event (a bank reference confirmed, a gateway notification) is unique per school:
one school's bank reference no longer blocks another school's confirmation. Existing events
take the school of their payment's bill; a replay of any of them is still met by the new
constraint (same school, provider and event id)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_school(apps, schema_editor):
    PaymentEvent = apps.get_model("afterschool", "PaymentEvent")
    Payment = apps.get_model("afterschool", "Payment")
    PaymentEvent.objects.update(
        school_id=Subquery(
            Payment.objects.filter(pk=OuterRef("payment_id")).values("bill__school_id")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("afterschool", "0003_payment_provider_transfer"),
        ("portal", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="paymentevent",
            name="school",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="portal.school",
            ),
        ),
        migrations.RunPython(fill_school, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="paymentevent",
            name="school",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="portal.school",
            ),
        ),
        migrations.RemoveConstraint(model_name="paymentevent", name="as_event_once"),
        migrations.AddConstraint(
            model_name="paymentevent",
            constraint=models.UniqueConstraint(
                fields=("school", "provider", "event_id"), name="as_event_once_a_school"
            ),
        ),
    ]
