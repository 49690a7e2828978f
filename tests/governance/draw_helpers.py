"""Shared set-ups of the 阳光分班 tests: a draw entered, published and run through the
services, as the school and the bureau do."""

import datetime as dt

from django.utils import timezone

from governance import draw as draws
from portal.models import School, SchoolStaff
from tests.factories import SchoolFactory, SchoolStaffFactory

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def pupils_text(n: int, *, bands: str = "") -> str:
    """``n`` pupils, alternately girls and boys, distinct names; a band column cycling
    through ``bands`` when given."""
    lines = []
    for i in range(n):
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)] + "子"
        gender = "女" if i % 2 == 0 else "男"
        band = f",{bands[(i // 2) % len(bands)]}" if bands else ""
        lines.append(f"{name},{gender}{band}")
    return "\n".join(lines)


def soon(minutes=60):
    return timezone.now() + dt.timedelta(minutes=minutes)


def junior_school(district):
    """A junior school with its principal (grade 7 intakes)."""
    school = SchoolFactory(name="丙中学", stage=School.Stage.JUNIOR, district=district)
    principal = SchoolStaffFactory(
        school=school, role=SchoolStaff.Role.PRINCIPAL, name="丙校长", user__username="pc"
    )
    return school, principal.user


def entered(principal, *, n=40, classes=4, teachers=("李老师", "王老师", "张老师", "赵老师"),
            grade=1, year=2026, bands=""):  # fmt: skip
    draw = draws.draw_create(
        actor=principal, grade=grade, year=year, class_count=classes, scheduled_at=soon()
    )
    return draws.draw_set_lists(
        actor=principal, draw_id=draw.pk, class_count=classes,
        pupils_text=pupils_text(n, bands=bands), teachers_text="\n".join(teachers),
    )  # fmt: skip


def published(principal, bureau, *, allow_bands=False, **kwargs):
    draw = entered(principal, **kwargs)
    return draws.draw_publish(
        actor=bureau, draw_id=draw.pk, scheduled_at=soon(), allow_bands=allow_bands
    )


def drawn(principal, bureau, **kwargs):
    draw = published(principal, bureau, **kwargs)
    return draws.draw_run(
        actor=principal, draw_id=draw.pk, now=draw.scheduled_at + dt.timedelta(seconds=1)
    )


def due(draw):
    """Move the draw's time to the past (the school may run it now)."""
    draw.scheduled_at = timezone.now() - dt.timedelta(minutes=1)
    draw.save(update_fields=["scheduled_at"])
    return draw
