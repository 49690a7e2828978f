# The lunch part's own migration (issue 17/19): its models' operations only.
from decimal import Decimal

import django.contrib.postgres.fields
import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("afterschool", "0010_sites"),
        ("portal", "0006_chinese_labels"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="LunchChoice",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("arrangement", models.CharField(choices=[("bed", "平躺睡（床位）"), ("desk", "趴睡（课桌）")], max_length=4, verbose_name="午休方式")),
                ("days", django.contrib.postgres.fields.ArrayField(base_field=models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(0), django.core.validators.MaxValueValidator(4)]), size=None, verbose_name="午托日（周一至周五）")),
                ("enrolment", models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name="lunch_choice", to="afterschool.enrolment", verbose_name="报名")),
            ],
            options={"verbose_name": "午托选择", "verbose_name_plural": "午托选择"},
        ),
        migrations.CreateModel(
            name="LunchMonth",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.DateField(verbose_name="月份（当月1日）")),
                ("beds", models.PositiveSmallIntegerField(verbose_name="床位数")),
                ("fee_per_month", models.DecimalField(decimal_places=2, default=Decimal("0"), max_digits=8, verbose_name="每月收费（元）")),
                ("days", django.contrib.postgres.fields.ArrayField(base_field=models.PositiveSmallIntegerField(validators=[django.core.validators.MaxValueValidator(4)]), size=None, verbose_name="开放日（周一至周五）")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="开设时间")),
                ("by", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="开设人")),
                ("offering", models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name="lunch_month", to="afterschool.offering", verbose_name="午托课程")),
                ("school", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="lunch_months", to="portal.school", verbose_name="学校")),
            ],
            options={
                "verbose_name": "午托月份",
                "verbose_name_plural": "午托月份",
                "ordering": ["-month", "school"],
                "constraints": [models.UniqueConstraint(fields=("school", "month"), name="as_one_lunch_month")],
            },
        ),
    ]  # fmt: skip
