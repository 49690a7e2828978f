"""Issue 13: a course's life (cancelled, finished), completed enrolments, and ratings one per
child and course (a parent with two children in a course rates twice). Existing ratings are
given the parent's child who took the course."""

import django.db.models.deletion
from django.db import migrations, models


def rating_children(apps, schema_editor):
    Rating = apps.get_model("afterschool", "Rating")  # noqa: N806
    Enrolment = apps.get_model("afterschool", "Enrolment")  # noqa: N806
    Child = apps.get_model("portal", "Child")  # noqa: N806
    for rating in Rating.objects.filter(child__isnull=True).order_by("pk"):
        taken = (
            Enrolment.objects.filter(
                offering_id=rating.offering_id, child__parents=rating.parent_id
            )
            .order_by("created_at", "pk")
            .values_list("child_id", flat=True)
        )
        child_id = next(
            (c for c in taken if not Rating.objects.filter(
                offering_id=rating.offering_id, child_id=c).exists()),
            None,
        )  # fmt: skip
        if child_id is None:
            child_id = (
                Child.objects.filter(parents=rating.parent_id)
                .order_by("pk")
                .values_list("pk", flat=True)
                .first()
            )
        if child_id is None:  # a rating no child stands behind cannot be kept per child
            rating.delete()
            continue
        rating.child_id = child_id
        rating.save(update_fields=["child"])


class Migration(migrations.Migration):
    dependencies = [
        ("afterschool", "0003_payment_provider_transfer"),
        ("portal", "0004_finding_evidence"),
    ]

    operations = [
        migrations.AlterField(
            model_name="offering",
            name="status",
            field=models.CharField(
                choices=[
                    ("draft", "草稿"),
                    ("published", "开放报名"),
                    ("closed", "已停止"),
                    ("cancelled", "已取消"),
                    ("finished", "已结课"),
                ],
                default="draft",
                max_length=10,
                verbose_name="状态",
            ),
        ),
        migrations.AddField(
            model_name="offering",
            name="cancel_reason",
            field=models.CharField(blank=True, max_length=200, verbose_name="取消原因"),
        ),
        migrations.AddField(
            model_name="offering",
            name="ended_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="取消或结课时间"),
        ),
        migrations.AlterField(
            model_name="enrolment",
            name="status",
            field=models.CharField(
                choices=[
                    ("enrolled", "已报名"),
                    ("waiting", "候补中"),
                    ("withdrawn", "已退出"),
                    ("completed", "已结课"),
                ],
                max_length=10,
                verbose_name="状态",
            ),
        ),
        migrations.RemoveConstraint(model_name="rating", name="as_one_rating"),
        migrations.AddField(
            model_name="rating",
            name="child",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="as_ratings",
                to="portal.child",
                verbose_name="学生",
            ),
        ),
        migrations.RunPython(rating_children, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="rating",
            name="child",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="as_ratings",
                to="portal.child",
                verbose_name="学生",
            ),
        ),
        migrations.AddConstraint(
            model_name="rating",
            constraint=models.UniqueConstraint(fields=("offering", "child"), name="as_one_rating"),
        ),
    ]
