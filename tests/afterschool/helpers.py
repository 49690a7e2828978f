import datetime as dt

from afterschool.models import Offering, Room, SchoolPlan
from portal.models import SchoolPeriod, SchoolStaff
from tests.factories import ChildFactory, ParentFactory


def term_for(district):
    return SchoolPeriod.objects.get_or_create(
        district=district,
        name="2026秋季学期",
        defaults={
            "kind": "term",
            "start": dt.date(2026, 9, 1),
            "end": dt.date(2027, 1, 22),
            "status": "active",
        },
    )[0]


def live_plan(school, status=SchoolPlan.Status.IN_EFFECT):
    return SchoolPlan.objects.create(
        school=school,
        term=term_for(school.district),
        weekdays=[0, 1, 2, 3, 4],
        start_time=dt.time(15, 30),
        end_time=dt.time(17, 30),
        items="托管、作业辅导、社团",
        status=status,
    )


def offering(
    school,
    *,
    capacity=2,
    grades=(3, 4),
    weekday=0,
    start=dt.time(15, 30),
    end=dt.time(16, 30),
    name="趣味编程",
    status=Offering.Status.PUBLISHED,
    plan=None,
):
    teacher = SchoolStaff.objects.filter(school=school).first()
    return Offering.objects.create(
        school=school,
        plan=plan or live_plan(school),
        name=name,
        kind="enrichment",
        teacher=teacher,
        grades=list(grades),
        capacity=capacity,
        weekday=weekday,
        start=start,
        end=end,
        status=status,
        room=room(school, name=f"{name}教室"),
    )


def room(school, *, name="多功能教室", capacity=60):
    return Room.objects.get_or_create(school=school, name=name, defaults={"capacity": capacity})[0]


def family(school_class, n, prefix="fam"):
    """n parents each with one child in school_class: [(parent_user, child)]."""
    out = []
    for i in range(n):
        parent = ParentFactory(user__username=f"{prefix}{school_class.pk}_{i}")
        child = ChildFactory(school_class=school_class)
        child.parents.add(parent)
        out.append((parent.user, child))
    return out
