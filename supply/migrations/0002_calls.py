# The calls part's own migration (issue 19): its models' operations only.
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("supply", "0001_organisations"),
        ("afterschool", "0013_funding"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="organisation",
            name="active",
            field=models.BooleanField(default=True, verbose_name="有效"),
        ),
        migrations.AddField(
            model_name="organisation",
            name="deactivated_reason",
            field=models.CharField(blank=True, max_length=200, verbose_name="停用原因"),
        ),
        migrations.CreateModel(
            name="Call",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("title", models.CharField(max_length=200, verbose_name="标题")),
                ("service_kinds", models.CharField(max_length=200, verbose_name="服务类别")),
                ("description", models.TextField(blank=True, verbose_name="征集说明")),
                ("deadline", models.DateTimeField(verbose_name="截止时间")),
                ("admit_count", models.PositiveIntegerField(verbose_name="拟准入数量")),
                (
                    "tie_criterion",
                    models.CharField(blank=True, max_length=50, verbose_name="同分优先评分项"),
                ),
                ("service_start", models.DateField(verbose_name="服务期开始")),
                ("service_end", models.DateField(verbose_name="服务期结束")),
                (
                    "status",
                    models.CharField(
                        choices=[("open", "征集中"), ("published", "结果已公布")],
                        default="open",
                        max_length=10,
                        verbose_name="状态",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="发布时间")),
                (
                    "published_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="结果公布时间"),
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
            ],
            options={
                "verbose_name": "课后服务机构公开征集",
                "verbose_name_plural": "课后服务机构公开征集",
                "ordering": ["-deadline", "-id"],
            },
        ),
        migrations.CreateModel(
            name="CallApplication",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "submitted_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="提交时间"
                    ),
                ),
                ("service_items", models.TextField(verbose_name="服务项目")),
                ("plan", models.TextField(blank=True, verbose_name="课程方案概述")),
                (
                    "price_per_lesson",
                    models.DecimalField(
                        decimal_places=2, max_digits=8, verbose_name="报价（元/课时）"
                    ),
                ),
                (
                    "outside_price",
                    models.DecimalField(
                        decimal_places=2, max_digits=8, verbose_name="校外同类课时价（元/课时）"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("submitted", "已提交"),
                            ("admitted", "准入"),
                            ("not_admitted", "未准入"),
                        ],
                        default="submitted",
                        max_length=15,
                        verbose_name="状态",
                    ),
                ),
                ("rank", models.PositiveIntegerField(blank=True, null=True, verbose_name="排名")),
                (
                    "total",
                    models.DecimalField(
                        blank=True, decimal_places=2, max_digits=6, null=True, verbose_name="总分"
                    ),
                ),
                (
                    "criterion_means",
                    models.JSONField(blank=True, default=dict, verbose_name="各评分项平均分"),
                ),
                (
                    "call",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="applications",
                        to="supply.call",
                        verbose_name="征集",
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="call_applications",
                        to="supply.organisation",
                        verbose_name="申报组织",
                    ),
                ),
                (
                    "submitted_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="提交人",
                    ),
                ),
            ],
            options={
                "verbose_name": "申报",
                "verbose_name_plural": "申报",
                "ordering": ["call", "submitted_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="CallConflict",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reason", models.CharField(max_length=200, verbose_name="回避事由")),
                ("declared_at", models.DateTimeField(auto_now_add=True, verbose_name="申报时间")),
                (
                    "application",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="conflicts",
                        to="supply.callapplication",
                        verbose_name="申报",
                    ),
                ),
                (
                    "expert",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="supply.expert",
                        verbose_name="专家",
                    ),
                ),
            ],
            options={
                "verbose_name": "利益冲突回避",
                "verbose_name_plural": "利益冲突回避",
            },
        ),
        migrations.CreateModel(
            name="CallCriterion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=50, verbose_name="评分项")),
                ("weight", models.PositiveIntegerField(verbose_name="分值")),
                ("position", models.PositiveIntegerField(default=0, verbose_name="顺序")),
                (
                    "call",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="criteria",
                        to="supply.call",
                        verbose_name="征集",
                    ),
                ),
            ],
            options={
                "verbose_name": "评分项",
                "verbose_name_plural": "评分项",
                "ordering": ["call", "position", "id"],
            },
        ),
        migrations.CreateModel(
            name="CallDocument",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200, verbose_name="文件名")),
                ("kind", models.CharField(max_length=5, verbose_name="类型")),
                ("size", models.PositiveIntegerField(verbose_name="大小")),
                ("sha256", models.CharField(max_length=64, verbose_name="文件摘要（SHA-256）")),
                ("path", models.CharField(max_length=200, verbose_name="存储路径")),
                ("uploaded_at", models.DateTimeField(auto_now_add=True, verbose_name="上传时间")),
                (
                    "application",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="documents",
                        to="supply.callapplication",
                        verbose_name="申报",
                    ),
                ),
            ],
            options={
                "verbose_name": "申报材料",
                "verbose_name_plural": "申报材料",
                "ordering": ["application", "id"],
            },
        ),
        migrations.CreateModel(
            name="CallExpert",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("assigned_at", models.DateTimeField(auto_now_add=True, verbose_name="指派时间")),
                (
                    "call",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="experts",
                        to="supply.call",
                        verbose_name="征集",
                    ),
                ),
                (
                    "expert",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="call_assignments",
                        to="supply.expert",
                        verbose_name="专家",
                    ),
                ),
            ],
            options={
                "verbose_name": "评审专家指派",
                "verbose_name_plural": "评审专家指派",
                "ordering": ["call", "id"],
            },
        ),
        migrations.CreateModel(
            name="CallScore",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("value", models.DecimalField(decimal_places=1, max_digits=5, verbose_name="得分")),
                ("scored_at", models.DateTimeField(auto_now=True, verbose_name="评分时间")),
                (
                    "application",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="scores",
                        to="supply.callapplication",
                        verbose_name="申报",
                    ),
                ),
                (
                    "criterion",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="supply.callcriterion",
                        verbose_name="评分项",
                    ),
                ),
                (
                    "expert",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="supply.expert",
                        verbose_name="专家",
                    ),
                ),
            ],
            options={
                "verbose_name": "专家评分",
                "verbose_name_plural": "专家评分",
            },
        ),
        migrations.AddConstraint(
            model_name="callapplication",
            constraint=models.UniqueConstraint(
                fields=("call", "organisation"), name="call_application_one_per_organisation"
            ),
        ),
        migrations.AddConstraint(
            model_name="callconflict",
            constraint=models.UniqueConstraint(
                fields=("application", "expert"), name="call_conflict_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="callcriterion",
            constraint=models.UniqueConstraint(
                fields=("call", "name"), name="call_criterion_unique_name"
            ),
        ),
        migrations.AddConstraint(
            model_name="callexpert",
            constraint=models.UniqueConstraint(
                fields=("call", "expert"), name="call_expert_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="callscore",
            constraint=models.UniqueConstraint(
                fields=("application", "expert", "criterion"), name="call_score_unique"
            ),
        ),
    ]
