# The people part's own migration (issue 17/19): its models' operations only.
# The course's old free text (Offering.provider_staff, "第三方授课人员") becomes register rows:
# one Person per name in it (split at 、，,;；/ and spaces), registered to the course's
# school and, for a provider's course, of its provider, named on the course as its 主讲.
# Their vetting dates are empty, so such a course shows them as 未登记 until a manager
# enters the dates: the text never said whether anyone had been vetted.
import re

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SEPARATORS = re.compile(r"[、，,;；/\s]+")


def text_to_register(apps, schema_editor):
    Offering = apps.get_model("afterschool", "Offering")
    Person = apps.get_model("afterschool", "Person")
    OfferingPerson = apps.get_model("afterschool", "OfferingPerson")
    rows = (
        Offering.objects.exclude(provider_staff="")
        .select_related("school", "contract")
        .order_by("pk")
    )
    for offering in rows:
        for name in dict.fromkeys(n for n in SEPARATORS.split(offering.provider_staff) if n):
            provider_id = offering.contract.provider_id if offering.contract_id else None
            person, _ = Person.objects.get_or_create(
                school_id=offering.school_id, name=name[:50], provider_id=provider_id,
                defaults={"kind": "other", "district_id": offering.school.district_id},
            )  # fmt: skip
            OfferingPerson.objects.get_or_create(
                offering=offering, person=person, defaults={"role": "lead"}
            )


def register_to_text(apps, schema_editor):
    Offering = apps.get_model("afterschool", "Offering")
    for offering in Offering.objects.filter(people__isnull=False).distinct():
        names = "、".join(offering.people.order_by("pk").values_list("person__name", flat=True))
        offering.provider_staff = names[:100]
        offering.save(update_fields=["provider_staff"])


class Migration(migrations.Migration):
    dependencies = [
        ("afterschool", "0011_lunch"),
        ("portal", "0006_chinese_labels"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Person",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=50, verbose_name="姓名")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("retired_teacher", "退休教师"),
                            ("artist", "艺术家"),
                            ("coach", "教练"),
                            ("student", "大学生"),
                            ("parent", "家长"),
                            ("other", "其他"),
                        ],
                        max_length=20,
                        verbose_name="类别",
                    ),
                ),
                ("phone", models.CharField(blank=True, max_length=20, verbose_name="联系电话")),
                (
                    "venue",
                    models.CharField(blank=True, max_length=100, verbose_name="所属单位/场馆"),
                ),
                (
                    "no_criminal_record_on",
                    models.DateField(blank=True, null=True, verbose_name="无犯罪记录证明开具日期"),
                ),
                (
                    "health_cert_on",
                    models.DateField(blank=True, null=True, verbose_name="健康证明日期"),
                ),
                (
                    "trained_on",
                    models.DateField(blank=True, null=True, verbose_name="安全培训日期"),
                ),
                ("active", models.BooleanField(default=True, verbose_name="在册")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="登记时间")),
                (
                    "by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="登记人",
                    ),
                ),
                (
                    "district",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="care_people",
                        to="portal.district",
                        verbose_name="所属区",
                    ),
                ),
                (
                    "provider",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="people",
                        to="afterschool.provider",
                        verbose_name="所属第三方机构",
                    ),
                ),
                (
                    "school",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="care_people",
                        to="portal.school",
                        verbose_name="登记学校",
                    ),
                ),
                (
                    "site",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="people",
                        to="afterschool.caresite",
                        verbose_name="登记托管点",
                    ),
                ),
            ],
            options={
                "verbose_name": "志愿者/社会资源人员",
                "verbose_name_plural": "志愿者/社会资源人员",
                "ordering": ["name", "pk"],
            },
        ),
        migrations.CreateModel(
            name="OfferingPerson",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "role",
                    models.CharField(
                        choices=[("lead", "主讲"), ("assistant", "助教")],
                        default="lead",
                        max_length=10,
                        verbose_name="角色",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="安排时间")),
                (
                    "offering",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="people",
                        to="afterschool.offering",
                        verbose_name="课后服务课程",
                    ),
                ),
                (
                    "person",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="offerings",
                        to="afterschool.person",
                        verbose_name="人员",
                    ),
                ),
            ],
            options={
                "verbose_name": "课程授课人员",
                "verbose_name_plural": "课程授课人员",
                "ordering": ["offering", "role", "pk"],
            },
        ),
        migrations.CreateModel(
            name="LessonPerson",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="安排时间")),
                (
                    "lesson",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="people",
                        to="afterschool.lesson",
                        verbose_name="课次",
                    ),
                ),
                (
                    "person",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lessons",
                        to="afterschool.person",
                        verbose_name="人员",
                    ),
                ),
            ],
            options={
                "verbose_name": "课次授课人员",
                "verbose_name_plural": "课次授课人员",
                "ordering": ["lesson", "pk"],
            },
        ),
        migrations.AddConstraint(
            model_name="person",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("school__isnull", True), ("site__isnull", True), _connector="OR"
                ),
                name="as_person_one_register",
            ),
        ),
        migrations.AddConstraint(
            model_name="offeringperson",
            constraint=models.UniqueConstraint(
                fields=("offering", "person"), name="as_offering_person_once"
            ),
        ),
        migrations.AddConstraint(
            model_name="lessonperson",
            constraint=models.UniqueConstraint(
                fields=("lesson", "person"), name="as_lesson_person_once"
            ),
        ),
        migrations.RunPython(text_to_register, register_to_text),
        migrations.RemoveField(model_name="offering", name="provider_staff"),
    ]
