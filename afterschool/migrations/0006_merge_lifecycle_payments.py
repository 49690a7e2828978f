"""Merges the two branches of issues 13 and 21 (course lifecycle, payment references)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("afterschool", "0004_payment_reference_per_school"),
        ("afterschool", "0005_course_lifecycle"),
    ]

    operations = []
