# The catalogue part's own migration (issue 19): its models' operations only.
import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("supply", "0003_fair"),
        ("afterschool", "0013_funding"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="CataloguePackage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("title", models.CharField(max_length=100, verbose_name="课程包名称")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("science", "科学探究"),
                            ("history", "历史文化"),
                            ("reading", "阅读"),
                            ("arts", "艺术"),
                            ("sports", "体育"),
                            ("nature", "自然生态"),
                            ("other", "其他"),
                        ],
                        max_length=10,
                        verbose_name="类别",
                    ),
                ),
                ("description", models.TextField(blank=True, verbose_name="内容简介")),
                ("grades", models.JSONField(default=list, verbose_name="适用年级")),
                ("visits", models.PositiveIntegerField(verbose_name="场次")),
                ("places_per_visit", models.PositiveIntegerField(verbose_name="每场名额")),
                (
                    "mode",
                    models.CharField(
                        choices=[("travel", "到馆"), ("in_school", "送课进校")],
                        max_length=10,
                        verbose_name="形式",
                    ),
                ),
                ("window_start", models.DateField(verbose_name="服务开始日期")),
                ("window_end", models.DateField(verbose_name="服务结束日期")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("published", "已发布"),
                            ("dispatched", "已派单"),
                            ("withdrawn", "已撤下"),
                        ],
                        default="published",
                        max_length=10,
                        verbose_name="状态",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="发布时间")),
                (
                    "dispatched_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="派单时间"),
                ),
                (
                    "withdrawn_reason",
                    models.CharField(blank=True, max_length=200, verbose_name="撤下原因"),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="发布人",
                    ),
                ),
                (
                    "dispatched_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="派单人",
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="catalogue_packages",
                        to="supply.organisation",
                        verbose_name="发布单位",
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
            ],
            options={
                "verbose_name": "公益课程包",
                "verbose_name_plural": "公益课程包",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="CatalogueOrder",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("pupils", models.PositiveIntegerField(verbose_name="学生人数")),
                (
                    "preferred_dates",
                    models.JSONField(blank=True, default=list, verbose_name="希望日期"),
                ),
                ("note", models.CharField(blank=True, max_length=200, verbose_name="备注")),
                ("ordered_at", models.DateTimeField(auto_now_add=True, verbose_name="点单时间")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("ordered", "已点单"),
                            ("granted", "已派单"),
                            ("partly", "部分派单"),
                            ("not_granted", "未派到"),
                            ("withdrawn", "课程包已撤下"),
                        ],
                        default="ordered",
                        max_length=12,
                        verbose_name="状态",
                    ),
                ),
                ("granted_visits", models.PositiveIntegerField(default=0, verbose_name="派单场次")),
                ("granted_places", models.PositiveIntegerField(default=0, verbose_name="派单名额")),
                (
                    "rank",
                    models.PositiveIntegerField(blank=True, null=True, verbose_name="派单顺位"),
                ),
                ("reason", models.CharField(blank=True, max_length=300, verbose_name="派单说明")),
                (
                    "rural",
                    models.BooleanField(blank=True, null=True, verbose_name="派单时为农村学校"),
                ),
                (
                    "school_pupils",
                    models.PositiveIntegerField(
                        blank=True, null=True, verbose_name="派单时在校学生数"
                    ),
                ),
                (
                    "ordered_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="点单人",
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
                    "package",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="orders",
                        to="supply.cataloguepackage",
                        verbose_name="课程包",
                    ),
                ),
            ],
            options={
                "verbose_name": "课程包点单",
                "verbose_name_plural": "课程包点单",
                "ordering": ["package", "ordered_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="CatalogueVisit",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("date", models.DateField(verbose_name="日期")),
                ("pupils_reached", models.PositiveIntegerField(verbose_name="服务学生数")),
                ("recorded_at", models.DateTimeField(auto_now_add=True, verbose_name="记录时间")),
                (
                    "rating",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(5),
                        ],
                        verbose_name="学校评分",
                    ),
                ),
                ("comment", models.CharField(blank=True, max_length=200, verbose_name="学校评价")),
                (
                    "confirmed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="确认时间"),
                ),
                (
                    "confirmed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="确认人",
                    ),
                ),
                (
                    "order",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="visits",
                        to="supply.catalogueorder",
                        verbose_name="点单",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="记录人",
                    ),
                ),
            ],
            options={
                "verbose_name": "送课记录",
                "verbose_name_plural": "送课记录",
                "ordering": ["order", "date", "id"],
            },
        ),
        migrations.CreateModel(
            name="SchoolLocality",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("rural", models.BooleanField(default=False, verbose_name="农村学校")),
                ("set_at", models.DateTimeField(auto_now=True, verbose_name="设置时间")),
                (
                    "school",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="catalogue_locality",
                        to="portal.school",
                        verbose_name="学校",
                    ),
                ),
                (
                    "set_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="设置人",
                    ),
                ),
            ],
            options={
                "verbose_name": "学校城乡属性",
                "verbose_name_plural": "学校城乡属性",
                "ordering": ["school"],
            },
        ),
        migrations.AddConstraint(
            model_name="cataloguepackage",
            constraint=models.CheckConstraint(
                condition=models.Q(("window_end__gte", models.F("window_start"))),
                name="catalogue_package_window_order",
            ),
        ),
        migrations.AddConstraint(
            model_name="cataloguepackage",
            constraint=models.CheckConstraint(
                condition=models.Q(("visits__gte", 1), ("places_per_visit__gte", 1)),
                name="catalogue_package_positive",
            ),
        ),
        migrations.AddConstraint(
            model_name="catalogueorder",
            constraint=models.UniqueConstraint(
                fields=("package", "school"), name="catalogue_order_once"
            ),
        ),
        migrations.AddConstraint(
            model_name="catalogueorder",
            constraint=models.CheckConstraint(
                condition=models.Q(("pupils__gte", 1)), name="catalogue_order_pupils"
            ),
        ),
        migrations.AddConstraint(
            model_name="cataloguevisit",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("rating__isnull", True),
                    models.Q(("rating__gte", 1), ("rating__lte", 5)),
                    _connector="OR",
                ),
                name="catalogue_visit_rating_range",
            ),
        ),
    ]
