# The catalogue part's own migration (issue 19): its models' operations only.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("supply", "0003_fair"), ("afterschool", "0013_funding")]

    operations: list = []
