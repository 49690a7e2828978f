# The people part's own migration (issue 17/19): its models' operations only.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("afterschool", "0011_lunch")]

    operations: list = []
