"""Funding oversight (issue 19 part 4): the per-pupil subsidy on the fee ledger, the
settlement's view of it, the fee cap at publication, the teachers' subsidy per month."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from afterschool import fees, funding, operations
from afterschool.funding_models import SubsidyGrant, TeacherPay
from afterschool.models import (
    AfterschoolPolicy,
    FeeEntry,
    FeeTransaction,
    Lesson,
    Offering,
    Settlement,
)
from portal import ledger
from portal.compliance import run_checks
from portal.models import AuditLog, Finding, SchoolPeriod, SchoolStaff
from tests.afterschool.fees_helpers import balanced_ledger, paid_course, today  # noqa: F401
from tests.afterschool.helpers import offering
from tests.post_routes import staff_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("balanced_ledger")]
PAY_RULE = "afterschool.funding.teacher_pay_under_floor"


@pytest.fixture
def bureau_as(world):
    return staff_of("课后服务", "bureau_as")


def term_of(world):
    return SchoolPeriod.objects.create(
        district=world.school_a.district,
        name="试点学期",
        kind="term",
        start=today() - dt.timedelta(days=20),
        end=today() + dt.timedelta(days=40),
        status="active",
    )


# --- the per-pupil subsidy -------------------------------------------------------------------


def test_the_formula_is_share_of_pupils_times_the_yearly_amount_halved(settings):
    assert settings.FUNDING_SUBSIDY_SHARE_PERCENT == 60
    assert settings.FUNDING_SUBSIDY_PER_PUPIL_YEAR == 500
    f = funding.subsidy_formula(1000)
    assert f.amount == Decimal("150000.00")  # 1000 × 60 % × 500 ÷ 2
    assert funding.subsidy_formula(1).amount == Decimal("150.00")
    assert funding.subsidy_formula(3).text == "3人 × 60% × 500.00元/年 ÷ 2 = 450.00元"
    settings.FUNDING_SUBSIDY_SHARE_PERCENT = 33
    assert funding.subsidy_formula(1).amount == Decimal("82.50")


def test_the_bureau_posts_the_subsidy_once_a_term_on_the_ledger(
    world, bureau_as, django_capture_on_commit_callbacks
):
    term = term_of(world)
    with django_capture_on_commit_callbacks(execute=True):
        grant = funding.subsidy_post(actor=bureau_as, school_id=world.school_a.pk, term_id=term.pk)
    assert not grant.replayed
    # the world's school has one pupil on the portal: 1 × 60 % × 500 ÷ 2
    assert (grant.pupils, grant.amount) == (1, Decimal("150.00"))
    tx = grant.transaction
    assert tx.kind == FeeTransaction.Kind.SUBSIDY
    pool = funding.pool_account(world.school_a.pk, term.pk)
    assert ledger.balance(FeeEntry, pool) == Decimal("-150.00")
    assert ledger.balance(FeeEntry, funding.grant_account(world.school_a.pk)) == 150
    assert funding.subsidy_received(world.school_a.pk, term.pk) == 150
    assert AuditLog.objects.filter(action="afterschool.funding.subsidy_posted").count() == 1
    again = funding.subsidy_post(
        actor=bureau_as, school_id=world.school_a.pk, term_id=term.pk, pupils=900
    )
    assert again.replayed and again.pk == grant.pk and again.amount == 150
    assert FeeTransaction.objects.filter(kind="subsidy").count() == 1
    assert world.principal_a.notices.filter(key=f"funding:grant:{grant.pk}").exists()


def test_the_bureau_may_give_the_official_pupil_count(world, bureau_as):
    term = term_of(world)
    grant = funding.subsidy_post(
        actor=bureau_as, school_id=world.school_a.pk, term_id=term.pk, pupils=1200
    )
    assert grant.amount == Decimal("180000.00")


@pytest.mark.parametrize("who", ["principal_a", "bureau", "parent_a"])
def test_only_bureau_staff_of_the_afterschool_line_post_a_subsidy(world, who):
    term = term_of(world)
    with pytest.raises(PermissionDenied):
        funding.subsidy_post(
            actor=getattr(world, who), school_id=world.school_a.pk, term_id=term.pk
        )
    assert not SubsidyGrant.objects.exists() and not FeeTransaction.objects.exists()


def test_a_subsidy_is_refused_for_a_vacation_zero_pupils_or_a_bad_count(world, bureau_as):
    term = term_of(world)
    winter = SchoolPeriod.objects.create(
        district=world.school_a.district,
        name="寒假",
        kind="winter",
        start=today() + dt.timedelta(days=41),
        end=today() + dt.timedelta(days=60),
    )
    cases = [
        ({"term_id": winter.pk}, "term", "寒假是假期"),
        ({"term_id": term.pk, "pupils": 0}, "pupils", "本学期奖补为 0"),
        ({"term_id": term.pk, "pupils": -1}, "pupils", "学生数应为 0 至 100000"),
        ({"term_id": term.pk, "pupils": 100001}, "pupils", "学生数应为 0 至 100000"),
        ({"term_id": None}, "term", "请选择该校所在区的学期"),
    ]
    for kwargs, key, words in cases:
        with pytest.raises(ValidationError) as exc:
            funding.subsidy_post(actor=bureau_as, school_id=world.school_a.pk, **kwargs)
        assert words in " ".join(exc.value.message_dict[key])
    grant = funding.subsidy_post(
        actor=bureau_as, school_id=world.school_a.pk, term_id=term.pk, pupils=100000
    )
    assert grant.amount == Decimal("15000000.00")
    assert SubsidyGrant.objects.count() == 1


# --- the settlement shows what came --------------------------------------------------------------


def free_course_held(world):
    """A free teacher's course whose three lessons were held: the subsidy of 3 × 50 元 is not
    covered by any fee, so the pool is −150 元."""
    course = paid_course(world.school_a, fee="0.00")
    Offering.objects.filter(pk=course.pk).update(teacher=world.teacher_a.school_staff)
    Lesson.objects.filter(offering=course).update(status=Lesson.Status.HELD)
    return course


@pytest.mark.parametrize(
    "pupils,received,needed,unspent",
    [(None, 0, 150, 0), (0.5, 75, 75, 0), (1, 150, 0, 0), (2, 300, 0, 150)],
)
def test_the_settlement_shows_the_subsidy_received_needed_and_unspent(
    world, bureau_as, pupils, received, needed, unspent
):
    course = free_course_held(world)
    term = course.plan.term
    if pupils == 0.5:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("django.conf.settings.FUNDING_SUBSIDY_SHARE_PERCENT", 30)
            funding.subsidy_post(
                actor=bureau_as, school_id=world.school_a.pk, term_id=term.pk, pupils=1
            )
    elif pupils is not None:
        funding.subsidy_post(
            actor=bureau_as, school_id=world.school_a.pk, term_id=term.pk, pupils=pupils
        )
    report = fees.settlement_report(world.school_a, term)
    assert report.pool == -150
    assert (report.received, report.needed, report.unspent) == (received, needed, unspent)
    fees.settlement_post(actor=world.principal_a, term_id=term.pk)
    settled = Settlement.objects.get(school=world.school_a, term=term)
    assert settled.pool == -150  # the books as posted keep the fee-based figure
    pool = funding.pool_account(world.school_a.pk, term.pk)
    # the pool holds what the fees left (−150 owed) plus the subsidy credited
    assert ledger.balance(FeeEntry, pool) == Decimal(150 - received)


def test_the_settlement_page_and_workbook_show_the_subsidy(world, bureau_as, client_for):
    from openpyxl import load_workbook

    course = free_course_held(world)
    term = course.plan.term
    funding.subsidy_post(actor=bureau_as, school_id=world.school_a.pk, term_id=term.pk, pupils=2)
    fees.settlement_post(actor=world.principal_a, term_id=term.pk)
    c = client_for(world.principal_a)
    url = reverse("afterschool:settlement") + f"?term={term.pk}"
    html = c.get(url).content.decode()
    assert "财政奖补已到账" in html and "300.00" in html and "150.00" in html
    wb = load_workbook(io.BytesIO(c.get(url + "&format=xlsx").content))
    rows = {r[0]: r[1] for r in wb["汇总"].iter_rows(values_only=True) if len(r) > 1}
    assert rows["财政奖补已到账"] == 300 and rows["仍需财政奖补"] == 0
    assert rows["财政奖补结余（未使用）"] == 150


# --- the fee cap at publication ----------------------------------------------------------------


@pytest.mark.parametrize("fee,refused", [("20.00", False), ("20.01", True)])
def test_a_course_over_the_fee_cap_is_refused_at_publication(world, settings, fee, refused):
    course = offering(world.school_a, status=Offering.Status.DRAFT)
    lessons = funding.term_lessons(course)
    assert lessons > 10  # a term of Mondays
    settings.FUNDING_FEE_CAP_PER_TERM = 20 * lessons  # the cap met exactly at 20 元 a lesson
    Offering.objects.filter(pk=course.pk).update(fee_per_lesson=Decimal(fee))
    if not refused:
        operations.offering_publish(user=world.principal_a, offering_id=course.pk)
        course.refresh_from_db()
        assert course.status == Offering.Status.PUBLISHED
        return
    with pytest.raises(ValidationError) as exc:
        operations.offering_publish(user=world.principal_a, offering_id=course.pk)
    total = Decimal(fee) * lessons
    message = " ".join(exc.value.messages)
    assert f"每课时{fee}元 × 本学期{lessons}课时 = {total}元" in message
    assert f"超过每生每学期{20 * lessons}元的收费上限" in message
    course.refresh_from_db()
    assert course.status == Offering.Status.DRAFT and not course.lessons.exists()


def test_the_cap_default_and_what_it_leaves_alone(world, settings):
    assert settings.FUNDING_FEE_CAP_PER_TERM == 600
    course = offering(world.school_a, status=Offering.Status.DRAFT)
    course.fee_per_lesson = Decimal("1000")
    assert funding.publish_problems(course)
    course.kind = Offering.Kind.LUNCH  # 午托 has its own fee rule
    assert funding.publish_problems(course) == []
    course.kind, course.fee_per_lesson = Offering.Kind.ENRICHMENT, Decimal("0")
    assert funding.publish_problems(course) == []


def test_the_cap_counts_generated_lessons_and_the_course_s_own_dates(world):
    course = offering(world.school_a, status=Offering.Status.DRAFT)
    whole = funding.term_lessons(course)
    course.starts_on = course.plan.term.end - dt.timedelta(days=13)  # two weeks left
    assert funding.term_lessons(course) <= 2
    course.starts_on = None
    day = course.plan.term.start
    for n in range(whole + 3):  # more lessons than the calendar gives: they count
        d = day + dt.timedelta(days=n)
        Lesson.objects.create(
            offering=course, planned_date=d, date=d, start=course.start, end=course.end
        )
    assert funding.term_lessons(course) == whole + 3


# --- the teachers' subsidy per month -------------------------------------------------------------


def last_month():
    return funding.month_start(today()) - relativedelta(months=1)


def held_lessons(world, n, month=None):
    """n lessons held by 甲老师 in last month (their own course, no provider)."""
    month = month or last_month()
    course = offering(world.school_a, status=Offering.Status.PUBLISHED)
    Offering.objects.filter(pk=course.pk).update(teacher=world.teacher_a.school_staff)
    for i in range(n):
        d = month + dt.timedelta(days=i)
        Lesson.objects.create(
            offering=course,
            planned_date=d,
            date=d,
            start=course.start,
            end=course.end,
            status=Lesson.Status.HELD,
        )
    return course


def findings():
    return list(Finding.objects.filter(rule=PAY_RULE, resolved_at=None))


@pytest.mark.parametrize("amount,found", [("149.99", True), ("150.00", False), ("300", False)])
def test_a_teacher_paid_under_the_floor_per_lesson_is_a_finding(world, amount, found):
    held_lessons(world, 3)
    teacher = world.teacher_a.school_staff
    funding.teacher_pay_report(
        actor=world.principal_a, month=last_month(), amounts={teacher.pk: amount}
    )
    pay = TeacherPay.objects.get()
    assert (pay.lessons, pay.amount) == (3, Decimal(amount))
    run_checks(for_date=today(), rules=[PAY_RULE])
    rows = findings()
    assert bool(rows) is found
    if found:
        assert "甲老师 3课时实发149.99元（应不少于150.00元）" in rows[0].message
        assert rows[0].school_id == world.school_a.pk


def test_an_unreported_month_is_a_finding_resolved_by_the_report(world):
    held_lessons(world, 2)
    run_checks(for_date=today(), rules=[PAY_RULE])
    assert "甲老师 2课时未上报" in findings()[0].message
    funding.teacher_pay_report(
        actor=world.principal_a,
        month=last_month(),
        amounts={world.teacher_a.school_staff.pk: "100"},
    )
    run_checks(for_date=today(), rules=[PAY_RULE])
    assert findings() == []
    assert Finding.objects.filter(rule=PAY_RULE).count() == 1  # resolved, not deleted


def test_the_current_month_is_not_judged_yet(world):
    held_lessons(world, 2, month=funding.month_start(today()))
    run_checks(for_date=today(), rules=[PAY_RULE])
    assert findings() == []


def test_a_report_again_replaces_the_amount_audited(world):
    held_lessons(world, 1)
    teacher = world.teacher_a.school_staff
    for amount in ("40", "50"):
        funding.teacher_pay_report(
            actor=world.principal_a, month=last_month(), amounts={teacher.pk: amount}
        )
    assert TeacherPay.objects.get().amount == 50
    logs = AuditLog.objects.filter(action="afterschool.funding.teacher_pay_reported")
    assert logs.count() == 2


def test_a_pay_report_is_refused_naming_the_rule_and_writes_nothing(world):
    teacher = world.teacher_a.school_staff
    other = SchoolStaff.objects.get(user=world.principal_b)
    month = last_month()
    with pytest.raises(PermissionDenied):
        funding.teacher_pay_report(actor=world.teacher_a, month=month, amounts={teacher.pk: 1})
    cases = [
        ({teacher.pk: "-1"}, month, f"amount_{teacher.pk}", "应为 0 至 100000 元"),
        ({teacher.pk: "1.001"}, month, f"amount_{teacher.pk}", "最多两位小数"),
        ({teacher.pk: "abc"}, month, f"amount_{teacher.pk}", "应为金额"),
        ({other.pk: "100"}, month, "amounts", "只能填报本校教师"),
        ({}, month, "amounts", "请至少填写一位教师"),
        ({teacher.pk: "100"}, funding.month_start(today()) + relativedelta(months=1), "month",
         "尚未开始"),
    ]  # fmt: skip
    for amounts, when, key, words in cases:
        with pytest.raises(ValidationError) as exc:
            funding.teacher_pay_report(actor=world.principal_a, month=when, amounts=amounts)
        assert words in " ".join(exc.value.message_dict[key])
    funding.teacher_pay_report(actor=world.principal_a, month=month, amounts={teacher.pk: "100000"})
    assert TeacherPay.objects.count() == 1


# --- the bureau's roll-up, its workbook and panel ----------------------------------------------


def test_the_rollup_lists_pay_schools_under_the_floor_and_funds(world, bureau_as, client_for):
    from openpyxl import load_workbook

    held_lessons(world, 2)
    funding.teacher_pay_report(
        actor=world.principal_a,
        month=last_month(),
        amounts={world.teacher_a.school_staff.pk: "80"},
    )
    month = f"{last_month():%Y-%m}"
    c = client_for(bureau_as)
    page = c.get(reverse("funding:index") + f"?month={month}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "甲小学：甲老师" in html and "80.00" in html and "40.00" in html
    wb = load_workbook(
        io.BytesIO(c.get(reverse("funding:index") + f"?month={month}&format=xlsx").content)
    )
    assert wb["低于标准的学校"]["A2"].value == "甲小学"
    assert wb["教师课时补助"]["E3"].value == 80
    assert c.get(reverse("funding:index") + "?month=2026-13").status_code == 400
    for user in (world.principal_a, world.teacher_a, world.parent_a, world.bureau):
        assert client_for(user).get(reverse("funding:index")).status_code == 403


def test_the_dashboard_panel_counts_teachers_under_the_floor(world, django_assert_max_num_queries):
    from afterschool.funding_dashboard import teachers_under_floor
    from portal.dashboard import Filters

    f = Filters(district=world.school_a.district, month=f"{last_month():%Y-%m}")
    with django_assert_max_num_queries(3):  # nothing to show: floor, lessons, pay
        teachers_under_floor(f)
    held_lessons(world, 2)
    with django_assert_max_num_queries(4):  # and the teachers named
        panel = teachers_under_floor(f)
    assert panel.series[0].bars[0].label == "甲小学" and panel.series[0].bars[0].value == 1
    assert dict(panel.figures)["低于标准的教师"] == "1"


def test_pages_of_the_school_and_the_subsidy(world, bureau_as, client_for):
    held_lessons(world, 2)
    c = client_for(world.principal_a)
    page = c.get(reverse("funding:pay") + f"?month={last_month():%Y-%m}")
    assert page.status_code == 200 and "甲老师" in page.content.decode()
    assert client_for(world.teacher_a).get(reverse("funding:pay")).status_code == 403
    assert client_for(world.principal_a).get(reverse("funding:subsidy")).status_code == 403
    term = term_of(world)
    page = client_for(bureau_as).get(reverse("funding:subsidy") + f"?term={term.pk}")
    assert page.status_code == 200
    assert "1人 × 60% × 500.00元/年 ÷ 2 = 150.00元" in page.content.decode()


def test_the_demo_posts_through_the_services_once(world, bureau_as):
    from afterschool import funding_demo

    SchoolPeriod.objects.create(
        district=world.school_a.district,
        name=funding_demo.TERM,
        kind="term",
        start=today() - dt.timedelta(days=20),
        end=today() + dt.timedelta(days=40),
        status="active",
    )
    held_lessons(world, 2)
    lines = funding_demo.build(bureau_username="bureau_as", principal_username="pa")
    assert len(lines) == 2 and SubsidyGrant.objects.count() == 2  # both schools have a pupil
    assert TeacherPay.objects.get().amount == 80  # 40 元 a lesson: under the floor
    assert funding_demo.build(bureau_username="bureau_as", principal_username="pa") == []


def test_the_floor_follows_the_policy(world):
    assert funding.floor() == 50  # the default before the policy row exists
    AfterschoolPolicy.objects.update_or_create(pk=1, defaults={"teacher_subsidy_floor": 60})
    assert funding.floor() == 60


@pytest.mark.parametrize("pupils,found", [(None, True), (0.99, True), (1, False)])
def test_a_settlement_short_of_the_subsidy_is_a_finding(world, bureau_as, pupils, found):
    course = free_course_held(world)
    term = course.plan.term
    if pupils == 0.99:  # 148.50 元 of the 150 needed
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("django.conf.settings.FUNDING_SUBSIDY_PER_PUPIL_YEAR", 495)
            funding.subsidy_post(
                actor=bureau_as, school_id=world.school_a.pk, term_id=term.pk, pupils=1
            )
    elif pupils is not None:
        funding.subsidy_post(
            actor=bureau_as, school_id=world.school_a.pk, term_id=term.pk, pupils=pupils
        )
    fees.settlement_post(actor=world.principal_a, term_id=term.pk)
    rule = "afterschool.funding.settlement_uncovered"
    run_checks(for_date=today(), rules=[rule])
    rows = list(Finding.objects.filter(rule=rule, resolved_at=None))
    assert bool(rows) is found
    if pupils is None:
        assert "结算缺口150.00元，财政奖补已到账0.00元，仍差150.00元" in rows[0].message


def test_a_refused_pay_report_keeps_the_month_and_shows_the_rule(world, client_for):
    teacher = world.teacher_a.school_staff
    month = last_month() - relativedelta(months=1)
    page = client_for(world.principal_a).post(
        reverse("funding:pay"), {"month": f"{month:%Y-%m}", f"amount_{teacher.pk}": "-5"}
    )
    html = page.content.decode()
    assert page.status_code == 400
    assert "甲老师的实发补助应为 0 至 100000 元、最多两位小数的金额。" in html
    assert f'name="month" value="{month:%Y-%m}"' in html
    assert not TeacherPay.objects.exists()


def test_posting_the_subsidy_needs_its_own_permission_not_only_the_line(world):
    """Bureau staff who hold only a read permission of the after-school line may not put
    money on the ledger; nothing is written."""
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    reader = UserFactory(username="as_reader", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_offering"))
    with pytest.raises(PermissionDenied):
        funding.subsidy_post(actor=reader, school_id=world.school_a.pk, term_id=term_of(world).pk)
    assert not SubsidyGrant.objects.exists()
