# The fair part's own migration (issue 19): its models' operations only.
import django.contrib.postgres.fields
import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("supply", "0002_calls"),
        ("afterschool", "0013_funding"),
        ("portal", "0006_chinese_labels"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Fair",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, verbose_name="名称")),
                (
                    "status",
                    models.CharField(
                        choices=[("open", "进行中"), ("closed", "已截止"), ("matched", "已匹配")],
                        default="open",
                        max_length=10,
                        verbose_name="状态",
                    ),
                ),
                ("opened_at", models.DateTimeField(auto_now_add=True, verbose_name="开始时间")),
                ("closed_at", models.DateTimeField(blank=True, null=True, verbose_name="截止时间")),
                (
                    "matched_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="匹配时间"),
                ),
                (
                    "matched_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="匹配人",
                    ),
                ),
                (
                    "term",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="fair",
                        to="portal.schoolperiod",
                        verbose_name="学期",
                    ),
                ),
            ],
            options={
                "verbose_name": "双向选择会",
                "verbose_name_plural": "双向选择会",
                "ordering": ["-term__start", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="FairNeed",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("sports", "体育"),
                            ("arts", "艺术"),
                            ("science", "科技"),
                            ("reading", "阅读与语言"),
                            ("labour", "劳动实践"),
                            ("other", "其他"),
                        ],
                        max_length=10,
                        verbose_name="课程类别",
                    ),
                ),
                (
                    "grades",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.PositiveSmallIntegerField(
                            validators=[
                                django.core.validators.MinValueValidator(1),
                                django.core.validators.MaxValueValidator(9),
                            ]
                        ),
                        size=None,
                        verbose_name="面向年级",
                    ),
                ),
                (
                    "weekdays",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.PositiveSmallIntegerField(
                            validators=[django.core.validators.MaxValueValidator(6)]
                        ),
                        size=None,
                        verbose_name="服务日",
                    ),
                ),
                (
                    "places",
                    models.PositiveSmallIntegerField(
                        validators=[django.core.validators.MinValueValidator(1)],
                        verbose_name="学生人数",
                    ),
                ),
                (
                    "budget_per_lesson",
                    models.DecimalField(
                        decimal_places=2, max_digits=8, verbose_name="课时预算（元）"
                    ),
                ),
                ("note", models.CharField(blank=True, max_length=300, verbose_name="说明")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="发布时间")),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="发布人",
                    ),
                ),
                (
                    "fair",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="needs",
                        to="supply.fair",
                        verbose_name="双向选择会",
                    ),
                ),
                (
                    "school",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="fair_needs",
                        to="portal.school",
                        verbose_name="学校",
                    ),
                ),
            ],
            options={
                "verbose_name": "学校需求",
                "verbose_name_plural": "学校需求",
                "ordering": ["fair", "school", "pk"],
            },
        ),
        migrations.CreateModel(
            name="FairOffer",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("title", models.CharField(max_length=100, verbose_name="课程名称")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("sports", "体育"),
                            ("arts", "艺术"),
                            ("science", "科技"),
                            ("reading", "阅读与语言"),
                            ("labour", "劳动实践"),
                            ("other", "其他"),
                        ],
                        max_length=10,
                        verbose_name="课程类别",
                    ),
                ),
                (
                    "grades",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.PositiveSmallIntegerField(
                            validators=[
                                django.core.validators.MinValueValidator(1),
                                django.core.validators.MaxValueValidator(9),
                            ]
                        ),
                        size=None,
                        verbose_name="面向年级",
                    ),
                ),
                (
                    "weekdays",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.PositiveSmallIntegerField(
                            validators=[django.core.validators.MaxValueValidator(6)]
                        ),
                        size=None,
                        verbose_name="服务日",
                    ),
                ),
                (
                    "places",
                    models.PositiveSmallIntegerField(
                        validators=[django.core.validators.MinValueValidator(1)],
                        verbose_name="每班人数",
                    ),
                ),
                (
                    "capacity",
                    models.PositiveSmallIntegerField(
                        default=1,
                        validators=[django.core.validators.MinValueValidator(1)],
                        verbose_name="可服务学校数",
                    ),
                ),
                (
                    "price_per_lesson",
                    models.DecimalField(
                        decimal_places=2, max_digits=8, verbose_name="课时单价（元）"
                    ),
                ),
                (
                    "outside_price",
                    models.DecimalField(
                        decimal_places=2, max_digits=8, verbose_name="校外同类课时价（元）"
                    ),
                ),
                ("note", models.CharField(blank=True, max_length=300, verbose_name="说明")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="发布时间")),
                (
                    "created_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="发布人",
                    ),
                ),
                (
                    "fair",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="offers",
                        to="supply.fair",
                        verbose_name="双向选择会",
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="fair_offers",
                        to="supply.organisation",
                        verbose_name="机构",
                    ),
                ),
                (
                    "provider",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="fair_offers",
                        to="afterschool.provider",
                        verbose_name="课后服务机构名单",
                    ),
                ),
            ],
            options={
                "verbose_name": "机构供给",
                "verbose_name_plural": "机构供给",
                "ordering": ["fair", "organisation", "pk"],
            },
        ),
        migrations.CreateModel(
            name="FairMatch",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "how",
                    models.CharField(
                        choices=[("mutual_first", "互为第一志愿"), ("deferred", "延迟接受")],
                        max_length=15,
                        verbose_name="匹配方式",
                    ),
                ),
                ("school_rank", models.PositiveSmallIntegerField(verbose_name="学校志愿")),
                ("provider_rank", models.PositiveSmallIntegerField(verbose_name="机构志愿")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="匹配时间")),
                (
                    "contract",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="fair_match",
                        to="afterschool.providercontract",
                        verbose_name="合同草案",
                    ),
                ),
                (
                    "fair",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="matches",
                        to="supply.fair",
                        verbose_name="双向选择会",
                    ),
                ),
                (
                    "need",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="match",
                        to="supply.fairneed",
                        verbose_name="需求",
                    ),
                ),
                (
                    "offer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="matches",
                        to="supply.fairoffer",
                        verbose_name="供给",
                    ),
                ),
            ],
            options={
                "verbose_name": "匹配结果",
                "verbose_name_plural": "匹配结果",
                "ordering": ["fair", "need__school", "need"],
            },
        ),
        migrations.CreateModel(
            name="FairChoice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "side",
                    models.CharField(
                        choices=[("school", "学校"), ("provider", "机构")],
                        max_length=10,
                        verbose_name="选择方",
                    ),
                ),
                (
                    "rank",
                    models.PositiveSmallIntegerField(
                        validators=[django.core.validators.MinValueValidator(1)],
                        verbose_name="志愿顺序",
                    ),
                ),
                (
                    "need",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="choices",
                        to="supply.fairneed",
                        verbose_name="需求",
                    ),
                ),
                (
                    "offer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="choices",
                        to="supply.fairoffer",
                        verbose_name="供给",
                    ),
                ),
            ],
            options={
                "verbose_name": "志愿",
                "verbose_name_plural": "志愿",
                "ordering": ["side", "need", "offer", "rank"],
            },
        ),
        migrations.AddConstraint(
            model_name="fairneed",
            constraint=models.CheckConstraint(
                condition=models.Q(("budget_per_lesson__gt", 0)), name="fair_need_budget"
            ),
        ),
        migrations.AddConstraint(
            model_name="fairoffer",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("price_per_lesson__gt", 0), ("price_per_lesson__lt", models.F("outside_price"))
                ),
                name="fair_offer_below_outside_price",
            ),
        ),
        migrations.AddConstraint(
            model_name="fairoffer",
            constraint=models.CheckConstraint(
                condition=models.Q(("capacity__gte", 1)), name="fair_offer_capacity"
            ),
        ),
        migrations.AddConstraint(
            model_name="fairchoice",
            constraint=models.UniqueConstraint(
                fields=("need", "offer", "side"), name="fair_choice_once"
            ),
        ),
        migrations.AddConstraint(
            model_name="fairchoice",
            constraint=models.UniqueConstraint(
                condition=models.Q(("side", "school")),
                fields=("need", "rank"),
                name="fair_school_rank_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="fairchoice",
            constraint=models.UniqueConstraint(
                condition=models.Q(("side", "provider")),
                fields=("offer", "rank"),
                name="fair_provider_rank_unique",
            ),
        ),
    ]
