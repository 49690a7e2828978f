# The dashboard's kept panels (portal/dashboard_models.py), issue 20

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('portal', '0006_chinese_labels'),
    ]

    operations = [
        migrations.CreateModel(
            name='PanelSnapshot',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=80, verbose_name='图表')),
                ('month', models.CharField(max_length=7, verbose_name='月份')),
                ('data', models.JSONField(verbose_name='图表数据')),
                ('computed_at', models.DateTimeField(verbose_name='计算时间')),
                ('district', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='portal.district', verbose_name='区')),
            ],
            options={
                'verbose_name': '工作台图表快照',
                'verbose_name_plural': '工作台图表快照',
                'constraints': [models.UniqueConstraint(fields=('district', 'month', 'key'), name='panel_snapshot_once')],
            },
        ),
    ]
