"""Demo after-school service: 实验小学's plan in effect for the autumn term, a free basic-care
course and a paid enrichment course, their lessons, and 张小明 enrolled (with a bill to pay in
the sandbox gateway). Idempotent."""

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from afterschool import funding_demo, lunch_demo, people_demo, sites_demo
from afterschool.enrolment import enrol
from afterschool.models import Enrolment, FeeRule, Offering, PlanItem, Room, SchoolPlan
from afterschool.operations import offering_publish
from portal.models import Child, School, SchoolPeriod, SchoolStaff

COURSES = [
    # (name, kind, weekday, start, end, fee per lesson); the clubs start next week, so the
    # demo's parents can still enrol (enrolment closes at a course's first lesson)
    ("基础托管与作业辅导", Offering.Kind.HOMEWORK, 0, "15:40", "17:30", "0"),
    ("创意美术", Offering.Kind.ENRICHMENT, 1, "15:40", "16:40", "15.00"),
    ("少儿编程", Offering.Kind.ENRICHMENT, 3, "15:40", "16:40", "20.00"),
]


def load_demo() -> list[str]:
    """The term's courses, then care beyond the school day and funding, each part through
    its services and idempotent by itself (a part added by a later release is loaded into an
    existing demo on the next start)."""
    lines = _term_courses()
    lines += _holiday()
    for build in (sites_demo.build, people_demo.build, lunch_demo.build, funding_demo.build):
        with transaction.atomic():
            lines += build()
    return lines


@transaction.atomic
def _holiday() -> list[str]:
    """实验小学 hosts winter care for its own pupils and 明德学校's: its vacation plan filed by
    the principal, approved and put in effect by the bureau, two week blocks opened, and
    张小明 enrolled in the first week."""
    from afterschool import holiday_demo, plans
    from afterschool.holiday_models import HostSite

    principal = SchoolStaff.objects.filter(user__username="principal_shiyan").first()
    bureau = get_user_model().objects.filter(username="bureau_afterschool").first()
    vacation = SchoolPeriod.objects.filter(name="2027年寒假").first()
    mingde = School.objects.filter(name="示范区明德学校").first()
    if None in (principal, bureau, vacation, mingde) or HostSite.objects.exists():
        return []
    plan = plans.plan_save(
        actor=principal.user, term=vacation, weekdays=[0, 1, 2, 3, 4],
        start_time=dt.time(8, 30), end_time=dt.time(17, 0),
        items="寒假托管：看护、自主学习、阅读、文体活动",
    )  # fmt: skip
    for name, activity in [("看护与自主学习", "self_study"), ("阅读", "reading"),
                           ("文体活动", "sports_arts")]:  # fmt: skip
        plans.plan_item_save(actor=principal.user, plan_id=plan.pk, name=name, activity=activity)
    plans.plan_submit(actor=principal.user, plan_id=plan.pk)
    plans.plan_decide(actor=bureau, plan_id=plan.pk, approve=True)
    plans.plan_start(actor=bureau, plan_id=plan.pk)
    # designated, not opened: 2027's statutory holidays are not in the calendar yet (the
    # package knows them up to 2026), and the portal guesses no day around 春节; the bureau
    # opens the weeks once it has entered them (节假日与调休)
    holiday_demo.build(
        actor=bureau, vacation=vacation, host_school=principal.school, served_schools=[mingde],
        open_it=False,
    )  # fmt: skip
    return [
        "假期托管：实验小学的寒假托管方案（实施中），托管点已指定（服务实验小学与明德学校），"
        "待录入2027年节假日安排后开放报名"
    ]


@transaction.atomic  # all of it or nothing: a half-loaded demo would never be completed
def _term_courses() -> list[str]:
    teacher = SchoolStaff.objects.filter(user__username="teacher_shiyan").first()
    principal = SchoolStaff.objects.filter(user__username="principal_shiyan").first()
    term = SchoolPeriod.objects.filter(name="2026-2027学年第一学期").first()
    if teacher is None or principal is None or term is None:
        return []
    school = teacher.school
    plan, created = SchoolPlan.objects.get_or_create(
        school=school,
        term=term,
        defaults={
            "weekdays": [0, 1, 2, 3, 4],
            "start_time": dt.time(15, 40),
            "end_time": dt.time(17, 40),
            "items": "基础托管、作业辅导、艺术与科技社团",
            "status": SchoolPlan.Status.IN_EFFECT,
        },
    )
    if not created:
        return []
    FeeRule.objects.get_or_create(school=school)
    next_week = timezone.localdate() + dt.timedelta(days=7 - timezone.localdate().weekday())
    items = {
        kind: PlanItem.objects.create(plan=plan, name=label, teachers=1)
        for kind, label in [(Offering.Kind.HOMEWORK, "基础托管与作业辅导"),
                            (Offering.Kind.ENRICHMENT, "艺术与科技社团")]
    }  # fmt: skip
    rooms = [Room.objects.create(school=school, name=n, capacity=40)
             for n in ("一楼多功能教室", "美术教室", "计算机教室")]  # fmt: skip
    for (name, kind, weekday, start, end, fee), room in zip(COURSES, rooms, strict=True):
        course = Offering.objects.create(
            school=school,
            plan=plan,
            name=name,
            kind=kind,
            teacher=teacher,
            grades=[1, 2, 3, 4, 5, 6],
            capacity=30,
            weekday=weekday,
            start=dt.time.fromisoformat(start),
            end=dt.time.fromisoformat(end),
            fee_per_lesson=Decimal(fee),
            room=room,
            plan_item=items[kind],
            starts_on=None if kind == Offering.Kind.HOMEWORK else next_week,
        )
        offering_publish(user=principal.user, offering_id=course.pk)
    child = Child.objects.filter(name="张小明", school=school).first()
    paid = Offering.objects.get(school=school, name="创意美术")
    if child is not None and not Enrolment.objects.filter(child=child).exists():
        enrol(user=child.parents.first().user, child_id=child.pk, offering_id=paid.pk)
    return ["课后服务：实验小学的方案、3 门课程及课次；张小明已报名“创意美术”（待缴费）"]
