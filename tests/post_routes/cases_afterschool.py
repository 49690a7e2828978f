"""POST cases of the after-school service: parents enrol, withdraw, switch, ask leave, rate,
answer the term survey and pay; school staff run courses, lessons, days and fees; the
bureau reviews plans; the payment provider calls back.

The views call the services with the real clock, so the courses here are laid out around
today: ``course(days=1)`` has its first lesson tomorrow (signup open), ``days=-1`` started
yesterday."""

import datetime as dt
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from afterschool import enrolment, operations, payments
from afterschool.models import (
    Bill,
    ClosedDay,
    Enrolment,
    FeeRule,
    LeaveRequest,
    Lesson,
    Offering,
    Payment,
    Rating,
    Room,
    SchoolPlan,
    Settlement,
    TermSurvey,
    Waiver,
)
from portal.models import SchoolPeriod, SchoolStaff
from tests.afterschool.fees_helpers import term_around_today
from tests.post_routes import Case, case, staff_of

PARENT_REFUSED = ("anonymous", "school", "stranger_parent")
SCHOOL_REFUSED = ("anonymous", "other_school", "parent")


def today():
    return timezone.localdate()


def _term(school):
    term = SchoolPeriod.objects.filter(district=school.district, name="本学期").first()
    return term or term_around_today(school.district)


def course(w, *, days=1, weeks=(0, 1), name="创意美术", fee="20.00", status="published",
           with_room=True, capacity=2):  # fmt: skip
    """A course of school A with lessons ``days`` from today and a week apart."""
    school = w.school_a
    term = _term(school)
    plan = SchoolPlan.objects.get_or_create(
        school=school, term=term,
        defaults={"weekdays": [0, 1, 2, 3, 4, 5, 6], "start_time": dt.time(15, 30),
                  "end_time": dt.time(17, 30), "items": "托管、社团",
                  "status": SchoolPlan.Status.IN_EFFECT},
    )[0]  # fmt: skip
    room = Room.objects.get_or_create(school=school, name="美术教室", defaults={"capacity": 40})[0]
    first = today() + dt.timedelta(days=days)
    offering = Offering.objects.create(
        school=school, plan=plan, name=name, kind="enrichment",
        teacher=SchoolStaff.objects.get(user=w.teacher_a), grades=[3], capacity=capacity,
        weekday=first.weekday(), start=dt.time(15, 30), end=dt.time(16, 30),
        fee_per_lesson=Decimal(fee) if fee else None, room=room if with_room else None,
        status=status,
    )  # fmt: skip
    for n in weeks:
        day = first + dt.timedelta(weeks=n)
        Lesson.objects.create(offering=offering, planned_date=day, date=day,
                              start=dt.time(15, 30), end=dt.time(16, 30), room=room)  # fmt: skip
    FeeRule.objects.get_or_create(school=school, defaults={"period": FeeRule.Period.TERM})
    return offering


def enrolled(w, offering, child=None, user=None):
    """child_a (by parent_a) enrolled, as if an hour before the first lesson."""
    first = offering.lessons.order_by("date", "start").first()
    before = timezone.make_aware(dt.datetime.combine(first.date, first.start)) - dt.timedelta(
        hours=1
    )
    return enrolment.enrol(
        user=user or w.parent_a, child_id=(child or w.child_a).pk, offering_id=offering.pk,
        now=min(before, timezone.now()),
    )  # fmt: skip


def _enrolments(child):
    return lambda: sorted(
        Enrolment.objects.filter(child=child).values_list("offering_id", "status")
    )


# --- parents -------------------------------------------------------------------------------


@case("afterschool:enrol", refused=PARENT_REFUSED)
def enrol(w):
    open_ = course(w)
    draft = course(w, days=2, name="书法", status="draft")
    return Case(
        url=reverse("afterschool:enrol"),
        user=w.parent_a,
        valid={"child": w.child_a.pk, "offering": open_.pk},
        state=_enrolments(w.child_a),
        audit="afterschool.enrolment.",
        invalid={"child": w.child_a.pk, "offering": draft.pk},
        error="该课程目前不开放报名",
    )


@case("afterschool:withdraw", refused=PARENT_REFUSED)
def withdraw(w):
    e = enrolled(w, course(w))
    started = enrolled(w, course(w, days=-1, weeks=(0, 1, 2), name="围棋"))
    return Case(
        url=reverse("afterschool:withdraw", args=[e.pk]),
        user=w.parent_a,
        valid={},
        state=_enrolments(w.child_a),
        audit="afterschool.enrolment.withdrawn",
        invalid_url=reverse("afterschool:withdraw", args=[started.pk]),
        invalid={},
        error="课程已开课",
    )


@case("afterschool:switch", refused=PARENT_REFUSED)
def switch(w):
    e = enrolled(w, course(w))
    to = course(w, days=2, name="书法")
    draft = course(w, days=3, name="围棋", status="draft")
    return Case(
        url=reverse("afterschool:switch", args=[e.pk]),
        user=w.parent_a,
        valid={"to": to.pk},
        state=_enrolments(w.child_a),
        audit="afterschool.enrolment.switched",
        invalid={"to": draft.pk},
        error="该课程目前不开放报名",
    )


@case("afterschool:leave", "request", refused=PARENT_REFUSED)
def leave_request(w):
    c = course(w)
    enrolled(w, c)
    lesson = c.lessons.order_by("date").first()
    return Case(
        url=reverse("afterschool:leave", args=[lesson.pk]),
        user=w.parent_a,
        valid={"child": w.child_a.pk, "reason": "发烧请假"},
        state=lambda: list(LeaveRequest.objects.values_list("lesson_id", "status")),
        audit="afterschool.leave.requested",
        invalid={"child": w.child_a.pk, "reason": "  "},
        error="请填写请假原因",
    )


@case("afterschool:leave", "withdraw", refused=PARENT_REFUSED)
def leave_withdraw(w):
    c = course(w)
    enrolled(w, c)
    lesson = c.lessons.order_by("date").first()
    leave = operations.leave_request(
        user=w.parent_a, lesson_id=lesson.pk, child_id=w.child_a.pk, reason="发烧请假"
    )
    return Case(
        url=reverse("afterschool:leave", args=[lesson.pk]),
        user=w.parent_a,
        valid={"action": "withdraw", "leave": leave.pk},
        state=lambda: list(LeaveRequest.objects.values_list("pk", "status")),
        audit="afterschool.leave.withdrawn",
        invalid={"action": "withdraw", "leave": "第一条"},
        error="请检查填写的内容",
    )


def _ended(w):
    """A course of child_a whose lessons are all past: ratable, and its term surveyed."""
    c = course(w, days=-15, weeks=(0, 1))
    enrolled(w, c)
    return c


@case("afterschool:rate", refused=PARENT_REFUSED)
def rate(w):
    c = _ended(w)
    return Case(
        url=reverse("afterschool:rate", args=[c.pk]),
        user=w.parent_a,
        valid={"stars": "5", "comment": "孩子很喜欢"},
        state=lambda: list(Rating.objects.values_list("offering_id", "stars")),
        audit="afterschool.rating.given",
        invalid={"stars": "6", "comment": "好"},
        error="请选择 1 至 5 星",
    )


# a parent with no child in the term answers nothing: for them the pair is invalid (200)
@case("afterschool:survey", refused=("anonymous", "school"))
def term_survey(w):
    c = _ended(w)
    key = f"{w.school_a.pk}:{c.plan.term_id}"
    return Case(
        url=reverse("afterschool:survey"),
        user=w.parent_a,
        valid={"pair": key, "answer": "satisfied", "suggestion": "希望多开体育课"},
        state=lambda: list(TermSurvey.objects.values_list("term_id", "answer")),
        audit="afterschool.survey.answered",
        invalid={"pair": key, "answer": ""},
        error="请选择总体满意度",
    )


def _bill(w):
    enrolled(w, course(w))
    return Bill.objects.get(child=w.child_a)


@case("afterschool:bill_pay", refused=PARENT_REFUSED)
def bill_pay(w):
    bill = _bill(w)
    return Case(
        url=reverse("afterschool:bill_pay", args=[bill.pk]),
        user=w.parent_a,
        valid={"provider": "sandbox"},
        state=lambda: list(Payment.objects.values_list("bill_id", "status")),
        audit="afterschool.payment.started",
        invalid={"provider": "银联"},
        error="请选择支付方式",
    )


def _payment(w):
    bill = _bill(w)
    return payments.payment_start(user=w.parent_a, bill_id=bill.pk, provider="sandbox")


def _bill_state(w):
    return lambda: list(
        Bill.objects.filter(child=w.child_a).values_list("status", "payments__status")
    )


@case("afterschool:sandbox_pay", refused=PARENT_REFUSED)
def sandbox_pay(w):
    payment = _payment(w)
    return Case(
        url=reverse("afterschool:sandbox_pay", args=[payment.reference]),
        user=w.parent_a,
        valid={"action": "pay"},
        state=_bill_state(w),
        audit="afterschool.bill.paid",
        no_invalid="the gateway's page has two buttons, pay and fail, both outcomes a payment "
        "may have; a forged or replayed outcome is afterschool:notify's invalid case",
    )


@case("afterschool:notify", refused=())
def notify(w):
    payment = _payment(w)
    gateway = payments.PROVIDERS["sandbox"]
    body, signature = gateway.notification(payment, status="paid")
    body = body if isinstance(body, bytes) else body.encode()
    return Case(
        url=reverse("afterschool:notify", args=["sandbox"]),
        user=None,  # the provider's server: trusted by its signature, not a login
        valid={},
        raw=("application/json", body, {"X-Signature": signature}),
        state=_bill_state(w),
        audit="afterschool.bill.paid",
        invalid_raw=("application/json", body, {"X-Signature": "0" * len(signature)}),
        error="签名",
        no_refused="a server-to-server callback: no user is refused, a wrong signature is "
        "(the invalid case)",
    )


# --- school staff ----------------------------------------------------------------------------


@case("afterschool:offerings", refused=("anonymous", "parent", "bureau_afterschool"))
def offering_create(w):
    plan = SchoolPlan.objects.create(
        school=w.school_a, term=_term(w.school_a), weekdays=[0, 1, 2, 3, 4],
        start_time=dt.time(15, 30), end_time=dt.time(17, 30), items="托管、社团",
        status=SchoolPlan.Status.IN_EFFECT,
    )  # fmt: skip
    teacher = SchoolStaff.objects.get(user=w.teacher_a)
    return Case(
        url=reverse("afterschool:offerings"),
        user=w.principal_a,
        valid={"plan": plan.pk, "name": "书法社", "kind": "enrichment", "teacher": teacher.pk,
               "grades": ["3", "4"], "capacity": "20", "weekday": "2", "start": "15:30",
               "end": "16:30", "fee_per_lesson": "0"},
        state=lambda: list(Offering.objects.values_list("name", "status")),
        audit="afterschool.offering.created",
        invalid={"plan": plan.pk, "name": "无名", "kind": "enrichment", "teacher": teacher.pk,
                 "grades": ["3"], "capacity": "20", "weekday": "2", "start": "17:00",
                 "end": "16:00"},
        error="结束时间应晚于开始时间",
    )  # fmt: skip


@case("afterschool:offering_publish", refused=SCHOOL_REFUSED)
def offering_publish(w):
    ready = course(w, status="draft")
    roomless = course(w, days=2, name="书法", status="draft", with_room=False)
    return Case(
        url=reverse("afterschool:offering_publish", args=[ready.pk]),
        user=w.principal_a,
        valid={},
        state=lambda: list(Offering.objects.order_by("pk").values_list("status", flat=True)),
        audit="afterschool.offering.published",
        invalid_url=reverse("afterschool:offering_publish", args=[roomless.pk]),
        invalid={},
        error="请为课程安排教室或场地",
    )


@case("afterschool:offering_detail", "capacity", refused=(*SCHOOL_REFUSED, "teacher"))
def offering_capacity(w):
    c = course(w)
    enrolled(w, c)
    return Case(
        url=reverse("afterschool:offering_detail", args=[c.pk]),
        user=w.principal_a,
        valid={"action": "capacity", "capacity": "5"},
        state=lambda: Offering.objects.values_list("capacity", flat=True).get(pk=c.pk),
        audit="afterschool.offering.changed",
        invalid={"action": "capacity", "capacity": "0"},
        error="名额不能少于1",
    )


@case("afterschool:offering_detail", "withdraw", refused=(*SCHOOL_REFUSED, "teacher"))
def offering_withdraw(w):
    c = course(w)
    e = enrolled(w, c)
    return Case(
        url=reverse("afterschool:offering_detail", args=[c.pk]),
        user=w.principal_a,
        valid={"action": "withdraw", "enrolment": e.pk, "reason": "转学"},
        state=_enrolments(w.child_a),
        audit="afterschool.enrolment.withdrawn",
        invalid={"action": "withdraw", "enrolment": e.pk, "reason": ""},
        error="请填写退课原因",
    )


@case("afterschool:roll_call", "in", refused=SCHOOL_REFUSED)
def roll_in(w):
    c = course(w, days=0, weeks=(0,))
    lesson = c.lessons.get()
    other = course(w, days=7, weeks=(0,), name="书法").lessons.get()
    return Case(
        url=reverse("afterschool:roll_call", args=[lesson.pk]),
        user=w.teacher_a,
        valid={"action": "in"},
        state=lambda: list(Lesson.objects.order_by("pk").values_list("teacher_in_at", flat=True)),
        audit="afterschool.lesson.in",
        invalid_url=reverse("afterschool:roll_call", args=[other.pk]),
        invalid={"action": "in"},
        error="只能在上课当天签到、签离",
    )


@case("afterschool:roll_call", "roll", refused=SCHOOL_REFUSED)
def roll(w):
    c = course(w, days=-1, weeks=(0,))
    lesson = c.lessons.get()
    enrolled(w, c)
    return Case(
        url=reverse("afterschool:roll_call", args=[lesson.pk]),
        user=w.teacher_a,
        valid={"action": "roll", f"mark_{w.child_a.pk}": "present"},
        state=lambda: Lesson.objects.values_list("status", "roll_submitted_at").get(pk=lesson.pk),
        audit="afterschool.lesson.roll",
        invalid={"action": "roll", f"mark_{w.child_a.pk}": ""},
        error="请为每位学生选择出勤、缺勤或请假",
    )


@case("afterschool:roll_call", "move", refused=SCHOOL_REFUSED)
def move(w):
    c = course(w, days=1, weeks=(0,))
    lesson = c.lessons.get()
    from afterschool.lessons import is_open

    to = lesson.date + dt.timedelta(days=1)
    while not is_open(lesson.offering.school, to):  # the next school day (not a weekend)
        to += dt.timedelta(days=1)
    return Case(
        url=reverse("afterschool:roll_call", args=[lesson.pk]),
        user=w.principal_a,
        valid={"action": "move", "date": to.isoformat(), "start": "16:00", "end": "17:00",
               "room": lesson.room_id, "reason": "教室检修"},
        state=lambda: Lesson.objects.values_list("date", "start").get(pk=lesson.pk),
        audit="afterschool.lesson.moved",
        invalid={"action": "move", "date": (today() - dt.timedelta(days=3)).isoformat(),
                 "start": "16:00", "end": "17:00", "room": lesson.room_id, "reason": "教室检修"},
        error="调课后的时间应在将来",
    )  # fmt: skip


@case("afterschool:lesson_cancel", refused=SCHOOL_REFUSED)
def lesson_cancel(w):
    lesson = course(w).lessons.order_by("date").first()
    return Case(
        url=reverse("afterschool:lesson_cancel", args=[lesson.pk]),
        user=w.principal_a,
        valid={"reason": "暴雨停课"},
        state=lambda: Lesson.objects.values_list("status", flat=True).get(pk=lesson.pk),
        audit="afterschool.lesson.cancelled",
        invalid={"reason": " "},
        error="取消课次必须说明原因",
    )


@case("afterschool:school_days", "room", refused=("anonymous", "parent", "teacher"))
def room(w):
    return Case(
        url=reverse("afterschool:school_days"),
        user=w.principal_a,
        valid={"action": "room", "name": "舞蹈室", "capacity": "30"},
        state=lambda: list(Room.objects.values_list("name", "capacity")),
        audit="afterschool.room.created",
        invalid={"action": "room", "name": "舞蹈室", "capacity": "0"},
        error="请填写教室名称和容纳人数",
    )


@case("afterschool:school_days", "close", refused=("anonymous", "parent", "teacher"))
def day_close(w):
    _term(w.school_a)
    day = today() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return Case(
        url=reverse("afterschool:school_days"),
        user=w.principal_a,
        valid={"action": "close", "date": day.isoformat(), "reason": "全校停电"},
        state=lambda: list(ClosedDay.objects.values_list("date", flat=True)),
        audit="afterschool.day.closed",
        invalid={"action": "close", "date": day.isoformat(), "reason": ""},
        error="请填写停课原因",
    )


FEE_REFUSED = ("anonymous", "parent", "teacher")


@case("afterschool:fees", "waiver", refused=FEE_REFUSED)
def waiver(w):
    term = _term(w.school_a)
    return Case(
        url=reverse("afterschool:fees"),
        user=w.principal_a,
        valid={"action": "waiver", "child": w.child_a.pk, "term": term.pk, "percent": "50",
               "reason": "低保家庭"},
        state=lambda: list(Waiver.objects.values_list("child_id", "percent")),
        audit="afterschool.waiver.set",
        invalid={"action": "waiver", "child": w.child_a.pk, "term": term.pk, "percent": "150",
                 "reason": "低保家庭"},
        error="减免比例应为 1 至 100",
    )  # fmt: skip


@case("afterschool:fees", "cancel", refused=FEE_REFUSED)
def bill_cancel(w):
    bill = _bill(w)
    return Case(
        url=reverse("afterschool:fees"),
        user=w.principal_a,
        valid={"action": "cancel", "bill": bill.pk, "reason": "重复开具"},
        state=lambda: Bill.objects.values_list("status", flat=True).get(pk=bill.pk),
        audit="afterschool.bill.cancelled",
        invalid={"action": "cancel", "bill": bill.pk, "reason": ""},
        error="作废账单必须说明原因",
    )


@case("afterschool:settlement", refused=FEE_REFUSED)
def settlement(w):
    done = SchoolPeriod.objects.create(
        district=w.school_a.district, name="上学期", kind="term",
        start=today() - dt.timedelta(days=200), end=today() - dt.timedelta(days=100),
        status="closed",
    )  # fmt: skip
    course(w, days=1)  # this term has lessons to come: not yet settled
    open_term = _term(w.school_a)
    return Case(
        url=reverse("afterschool:settlement"),
        user=w.principal_a,
        valid={"term": done.pk},
        state=lambda: list(Settlement.objects.values_list("term_id", flat=True)),
        audit="afterschool.settlement.posted",
        invalid={"term": open_term.pk},
        error="全部课次结束并点名后才能结算",
    )


# --- plans ---------------------------------------------------------------------------------


PLAN = {"weekdays": ["0", "1", "2", "3", "4"], "start_time": "15:30", "end_time": "17:30",
        "items": "作业辅导、托管"}  # fmt: skip


def _plan_term(w):
    return SchoolPeriod.objects.create(
        district=w.school_a.district, kind="term", name="2026秋季学期",
        start=dt.date(2026, 9, 1), end=dt.date(2027, 1, 22),
    )  # fmt: skip


def _plan(w, term, status="draft", weekdays=(0, 1, 2, 3, 4)):
    return SchoolPlan.objects.create(
        school=w.school_a, term=term, weekdays=list(weekdays), start_time=dt.time(15, 30),
        end_time=dt.time(17, 30), items="作业辅导、托管", status=status,
    )  # fmt: skip


# the plan pages show the after-school policy, whose default row is made on first read
POLICY = frozenset({"afterschool.AfterschoolPolicy"})


def _plans():
    return list(SchoolPlan.objects.order_by("pk").values_list("status", "items", "weekdays"))


@case("afterschool:plan_new", refused=("anonymous", "parent", "teacher", "bureau_afterschool"))
def plan_new(w):
    term = _plan_term(w)
    return Case(
        url=reverse("afterschool:plan_new"),
        user=w.principal_a,
        valid={"term": term.pk, **PLAN},
        state=_plans,
        audit="afterschool.plan.created",
        invalid={"term": term.pk, **PLAN, "weekdays": []},
        error="请选择服务日",
        ignore=POLICY,
    )


@case("afterschool:plan_edit", refused=(*SCHOOL_REFUSED, "teacher"))
def plan_edit(w):
    term = _plan_term(w)
    plan = _plan(w, term)
    return Case(
        url=reverse("afterschool:plan_edit", args=[plan.pk]),
        user=w.principal_a,
        valid={"term": term.pk, **PLAN, "items": "作业辅导、托管、社团"},
        state=_plans,
        audit="afterschool.plan.changed",
        invalid={"term": term.pk, **PLAN, "start_time": ""},
        error="请填写开始时间",
        ignore=POLICY,
    )


@case("afterschool:plan_submit", refused=(*SCHOOL_REFUSED, "teacher"))
def plan_submit(w):
    term = _plan_term(w)
    plan = _plan(w, term)
    other = SchoolPeriod.objects.create(
        district=w.school_a.district, kind="term", name="2027春季学期",
        start=dt.date(2027, 2, 20), end=dt.date(2027, 7, 1),
    )  # fmt: skip
    short = _plan(w, other, weekdays=(0, 1, 2, 3))
    return Case(
        url=reverse("afterschool:plan_submit", args=[plan.pk]),
        user=w.principal_a,
        valid={},
        state=_plans,
        audit="afterschool.plan.submitted",
        invalid_url=reverse("afterschool:plan_submit", args=[short.pk]),
        invalid={},
        error="每周只安排了4天",
        ignore=POLICY,
    )


@case("afterschool:plan_review", refused=("anonymous", "school", "bureau_homework"))
def plan_review(w):
    plan = _plan(w, _plan_term(w), status="submitted")
    return Case(
        url=reverse("afterschool:plan_review", args=[plan.pk]),
        user=staff_of("课后服务", "bureau_as"),
        valid={"action": "approve"},
        state=_plans,
        audit="afterschool.plan.approved",
        invalid={"action": "return", "reason": ""},
        error="必须说明原因",
        ignore=POLICY,
    )


# --- issue 13: a course's life -----------------------------------------------------------------


@case("afterschool:offering_detail", "cancel", refused=(*SCHOOL_REFUSED, "teacher"))
def offering_cancel(w):
    c = course(w)
    enrolled(w, c)
    return Case(
        url=reverse("afterschool:offering_detail", args=[c.pk]),
        user=w.principal_a,
        valid={"action": "cancel", "reason": "授课教师离职"},
        state=lambda: (
            Offering.objects.values_list("status", flat=True).get(pk=c.pk),
            sorted(Enrolment.objects.filter(offering=c).values_list("status", flat=True)),
            sorted(Bill.objects.filter(enrolment__offering=c).values_list("status", flat=True)),
        ),
        audit="afterschool.offering.cancelled",
        invalid={"action": "cancel", "reason": ""},
        error="取消课程必须说明原因",
    )
