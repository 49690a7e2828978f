# The holiday part's own migration (issue 17 part 1): HostSite and HostWeek.

import django.contrib.postgres.fields
import django.core.validators
import django.db.models.deletion
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('afterschool', '0008_engine_sites'),
        ('portal', '0006_chinese_labels'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='HostSite',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('capacity', models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(1)], verbose_name='每周名额')),
                ('weeks', django.contrib.postgres.fields.ArrayField(base_field=models.DateField(), size=None, verbose_name='托管周（每周周一）')),
                ('days', django.contrib.postgres.fields.ArrayField(base_field=models.PositiveSmallIntegerField(validators=[django.core.validators.MaxValueValidator(6)]), size=None, verbose_name='服务日')),
                ('morning_start', models.TimeField(verbose_name='上午开始')),
                ('morning_end', models.TimeField(verbose_name='上午结束')),
                ('afternoon_start', models.TimeField(blank=True, null=True, verbose_name='下午开始')),
                ('afternoon_end', models.TimeField(blank=True, null=True, verbose_name='下午结束')),
                ('fee_per_week', models.DecimalField(decimal_places=2, default=Decimal('0'), max_digits=8, verbose_name='每周收费（元）')),
                ('status', models.CharField(choices=[('draft', '待开放'), ('open', '已开放'), ('closed', '已关闭')], default='draft', max_length=10, verbose_name='状态')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='创建时间')),
                ('by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='指定人')),
                ('served_schools', models.ManyToManyField(related_name='holiday_host_sites', to='portal.school', verbose_name='服务学校')),
                ('site', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='host_sites', to='afterschool.caresite', verbose_name='托管点')),
                ('vacation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='portal.schoolperiod', verbose_name='假期')),
            ],
            options={
                'verbose_name': '假期托管点',
                'verbose_name_plural': '假期托管点',
                'ordering': ['-vacation__start', 'site__name'],
            },
        ),
        migrations.CreateModel(
            name='HostWeek',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('week', models.DateField(verbose_name='周一')),
                ('host', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='blocks', to='afterschool.hostsite', verbose_name='假期托管点')),
                ('offering', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='holiday_week', to='afterschool.offering', verbose_name='课后服务课程')),
            ],
            options={
                'verbose_name': '假期托管周',
                'verbose_name_plural': '假期托管周',
                'ordering': ['host', 'week'],
            },
        ),
        migrations.AddConstraint(
            model_name='hostsite',
            constraint=models.UniqueConstraint(fields=('vacation', 'site'), name='as_host_once_a_vacation'),
        ),
        migrations.AddConstraint(
            model_name='hostweek',
            constraint=models.UniqueConstraint(fields=('host', 'week'), name='as_host_week_once'),
        ),
    ]
