# The sites part's own migration (issue 17/19): its models' operations only.
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("afterschool", "0009_holiday"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SiteSafetyCheck",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("checked_on", models.DateField(verbose_name="检查日期")),
                ("checked_by", models.CharField(max_length=50, verbose_name="检查人")),
                ("note", models.CharField(blank=True, max_length=500, verbose_name="检查情况")),
                ("file_name", models.CharField(blank=True, max_length=200, verbose_name="文件名")),
                ("file_kind", models.CharField(blank=True, max_length=3, verbose_name="文件类型")),
                ("file_size", models.PositiveBigIntegerField(blank=True, null=True, verbose_name="文件大小（字节）")),
                ("file_sha256", models.CharField(blank=True, max_length=64, verbose_name="SHA-256 校验值")),
                ("file_path", models.CharField(blank=True, max_length=200, verbose_name="存储路径")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="登记时间")),
                ("recorded_by", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="登记人")),
                ("site", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="safety_checks", to="afterschool.caresite", verbose_name="托管点")),
            ],
            options={
                "verbose_name": "托管点安全检查",
                "verbose_name_plural": "托管点安全检查",
                "ordering": ["site", "-checked_on", "-id"],
            },
        ),
    ]
