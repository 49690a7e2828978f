"""POST cases of 阳光分班 (tests/post_routes): the school creates a draw and enters its list,
the bureau publishes the commitment, the school runs the draw, the bureau decides a re-draw."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from governance import draw as draws
from governance.draw_models import Draw
from tests.governance.draw_helpers import drawn, due, entered, published
from tests.post_routes import Case, case

SCHOOL_REFUSED = ("anonymous", "other_school", "teacher", "parent", "bureau_homework")
BUREAU_REFUSED = ("anonymous", "school", "other_school", "teacher", "parent",
                  "bureau_afterschool", "staff_without_group")  # fmt: skip


def _later(minutes=120) -> str:
    return timezone.localtime(timezone.now() + dt.timedelta(minutes=minutes)).strftime(
        "%Y-%m-%dT%H:%M"
    )


def _status(pk):
    return lambda: Draw.objects.values_list("status", "seed_sha256", "drawn_at").get(pk=pk)


@case("draw:create", refused=("anonymous", "teacher", "parent", "bureau_homework",
                              "staff_without_group"))  # fmt: skip
def create(w):
    return Case(
        url=reverse("draw:create"),
        user=w.principal_a,
        valid={"grade": 1, "year": 2026, "class_count": 3, "scheduled_at": _later()},
        state=lambda: list(Draw.objects.values_list("school_id", "grade", "year")),
        audit="governance.draw.created",
        invalid={"grade": 7, "year": 2026, "class_count": 3, "scheduled_at": _later()},
        error="没有七年级",
    )


@case("draw:lists", refused=SCHOOL_REFUSED)
def lists(w):
    draw = draws.draw_create(actor=w.principal_a, grade=1, year=2026, class_count=2,
                             scheduled_at=timezone.now() + dt.timedelta(hours=1))  # fmt: skip
    return Case(
        url=reverse("draw:lists", args=[draw.pk]),
        user=w.principal_a,
        valid={"class_count": 2, "pupils": "王芳,女\n李明,男\n赵雷,男", "teachers": ""},
        state=lambda: sorted(draw.pupils.values_list("name", flat=True)),
        audit="governance.draw.list_entered",
        invalid={"class_count": 2, "pupils": "王芳,女\n李明,未知", "teachers": ""},
        error="第2行：性别“未知”无法识别",
    )


@case("draw:publish", refused=BUREAU_REFUSED)
def publish(w):
    draw = entered(w.principal_a, n=12, classes=3, teachers=())
    return Case(
        url=reverse("draw:publish", args=[draw.pk]),
        user=w.bureau,
        valid={"scheduled_at": _later()},
        state=_status(draw.pk),
        audit="governance.draw.published",
        invalid={"scheduled_at": _later(-120)},
        error="抽签时间不能早于现在",
    )


@case("draw:run", refused=SCHOOL_REFUSED)
def run(w):
    draw = due(published(w.principal_a, w.bureau, n=12, classes=3, teachers=()))
    not_yet = published(w.principal_a, w.bureau, n=12, classes=3, teachers=(), year=2027)
    return Case(
        url=reverse("draw:run", args=[draw.pk]),
        user=w.principal_a,
        valid={},
        state=_status(draw.pk),
        audit="governance.draw.drawn",
        invalid={},
        invalid_url=reverse("draw:run", args=[not_yet.pk]),
        error="未到抽签时间",
    )


@case("draw:redraw", refused=BUREAU_REFUSED)
def redraw(w):
    draw = drawn(w.principal_a, w.bureau, n=12, classes=3, teachers=())
    return Case(
        url=reverse("draw:redraw", args=[draw.pk]),
        user=w.bureau,
        valid={"reason": "名单漏录一名学生，经局务会决定重新分班"},
        state=lambda: (_status(draw.pk)(), Draw.objects.count()),
        audit="governance.draw.superseded",
        invalid={"reason": "   "},
        error="请写明理由",
    )
