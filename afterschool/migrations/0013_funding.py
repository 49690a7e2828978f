# The funding part's own migration (issue 17/19): its models' operations only.
import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("afterschool", "0012_people"),
        ("portal", "0006_chinese_labels"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SubsidyGrant",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("pupils", models.PositiveIntegerField(verbose_name="在校学生数")),
                (
                    "share_percent",
                    models.PositiveSmallIntegerField(verbose_name="补助学生比例（%）"),
                ),
                (
                    "per_pupil_year",
                    models.DecimalField(
                        decimal_places=2, max_digits=10, verbose_name="生均补助（元/年）"
                    ),
                ),
                (
                    "amount",
                    models.DecimalField(
                        decimal_places=2, max_digits=12, verbose_name="本学期奖补（元）"
                    ),
                ),
                ("posted_at", models.DateTimeField(auto_now_add=True, verbose_name="入账时间")),
                (
                    "by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="经办人",
                    ),
                ),
                (
                    "school",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="portal.school",
                        verbose_name="学校",
                    ),
                ),
                (
                    "term",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="portal.schoolperiod",
                        verbose_name="学期",
                    ),
                ),
                (
                    "transaction",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="afterschool.feetransaction",
                        verbose_name="记账",
                    ),
                ),
            ],
            options={
                "verbose_name": "课后服务财政奖补",
                "verbose_name_plural": "课后服务财政奖补",
                "ordering": ["-posted_at"],
                "constraints": [
                    models.UniqueConstraint(fields=("school", "term"), name="as_grant_once_a_term"),
                    models.CheckConstraint(
                        condition=models.Q(("amount__gt", 0)), name="as_grant_positive"
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="TeacherPay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField(verbose_name="月份（当月1日）")),
                ("lessons", models.PositiveSmallIntegerField(verbose_name="课时")),
                (
                    "amount",
                    models.DecimalField(
                        decimal_places=2,
                        max_digits=10,
                        validators=[django.core.validators.MinValueValidator(0)],
                        verbose_name="实发补助（元）",
                    ),
                ),
                ("reported_at", models.DateTimeField(auto_now=True, verbose_name="填报时间")),
                (
                    "by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="填报人",
                    ),
                ),
                (
                    "school",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="portal.school",
                        verbose_name="学校",
                    ),
                ),
                (
                    "staff",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="portal.schoolstaff",
                        verbose_name="教师",
                    ),
                ),
            ],
            options={
                "verbose_name": "教师课时补助月报",
                "verbose_name_plural": "教师课时补助月报",
                "ordering": ["-month", "school", "staff__name"],
                "constraints": [
                    models.UniqueConstraint(fields=("staff", "month"), name="as_teacher_pay_once"),
                    models.CheckConstraint(
                        condition=models.Q(("amount__gte", 0)), name="as_teacher_pay_positive"
                    ),
                ],
            },
        ),
    ]
