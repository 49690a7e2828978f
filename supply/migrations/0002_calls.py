# The calls part's own migration (issue 19): its models' operations only.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("supply", "0001_organisations"), ("afterschool", "0013_funding")]

    operations: list = []
