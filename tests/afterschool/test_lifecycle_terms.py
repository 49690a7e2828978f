"""Issue 13, item 2: terms and plans govern enrolment, switching, publishing and lesson
generation (the same reason on the menu as on an attempt); closing a term ends its live
enrolments and waiting places and takes its courses off the menu; plans are filed only for
draft or active terms and take effect only in an active one."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse

from afterschool import enrolment, lessons, operations, plans
from afterschool.models import Bill, Enrolment, Lesson, Offering, SchoolPlan
from portal.models import AuditLog, SchoolPeriod
from tests.afterschool.fees_helpers import balanced_ledger, early, paid_course, today  # noqa: F401
from tests.afterschool.helpers import family
from tests.factories import UserFactory

pytestmark = [pytest.mark.usefixtures("balanced_ledger")]


def bureau_afterschool():
    user = UserFactory(username="kehou", is_staff=True)
    user.groups.add(Group.objects.get(name="课后服务"))
    return user


def set_plan(course, status):
    SchoolPlan.objects.filter(pk=course.plan_id).update(status=status)
    course.refresh_from_db()


# --- enrolment and switching -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_closed_plan_shuts_enrolment_with_the_menus_reason(world, client_for):
    course = paid_course(world.school_a, weeks=(1, 2))
    plans.plan_close(actor=bureau_afterschool(), plan_id=course.plan_id)
    c = client_for(world.parent_a)
    menu = c.get(reverse("afterschool:menu")).content.decode()
    reason = "本校本学期的课后服务方案已结束，课程不再开放报名。"
    assert reason in menu
    r = c.post(reverse("afterschool:enrol"), {"child": world.child_a.pk, "offering": course.pk},
               follow=True)  # fmt: skip
    assert reason in r.content.decode()
    assert not Enrolment.objects.exists() and not Bill.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "term_status, plan_status, words",
    [
        ("active", "in_effect", None),
        ("active", "approved", "已批准，尚未实施"),
        ("draft", "in_effect", "尚未启用"),
        ("closed", "in_effect", "已结束"),
    ],
)
def test_enrolment_needs_an_active_term_and_a_plan_in_effect(
    world, term_status, plan_status, words
):
    course = paid_course(world.school_a)
    SchoolPeriod.objects.filter(pk=course.plan.term_id).update(status=term_status)
    set_plan(course, plan_status)
    problem = enrolment.why_not(world.child_a, course, now=early(course))
    if words is None:
        assert problem is None
        return
    assert words in problem
    with pytest.raises(ValidationError, match=words):
        enrolment.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk,
                        now=early(course))  # fmt: skip
    assert not Enrolment.objects.exists()


@pytest.mark.django_db
def test_switching_into_a_course_whose_plan_is_not_in_effect_is_refused(world):
    course = paid_course(world.school_a, fee="0")
    other = paid_course(world.school_a, fee="0", name="书法", term=course.plan.term,
                        start=dt.time(16, 30), end=dt.time(17, 30))  # fmt: skip
    e = enrolment.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk,
                        now=early(course))  # fmt: skip
    set_plan(course, "closed")
    with pytest.raises(ValidationError, match="方案已结束"):
        enrolment.switch(user=world.parent_a, enrolment_id=e.pk, to_offering_id=other.pk,
                         now=early(course))  # fmt: skip
    assert Enrolment.objects.get(pk=e.pk).status == "enrolled"


# --- publishing and generating lessons -------------------------------------------------------


@pytest.mark.django_db
def test_publishing_and_generating_lessons_need_a_plan_in_effect(world):
    course = paid_course(world.school_a, weeks=())
    Offering.objects.filter(pk=course.pk).update(status="draft")
    set_plan(course, "approved")
    with pytest.raises(ValidationError, match="尚未实施"):
        operations.offering_publish(user=world.principal_a, offering_id=course.pk)
    assert lessons.lessons_generate(course) == (
        0,
        "本校本学期的课后服务方案已批准，尚未实施，课程暂不开放报名。",
    )
    assert not Lesson.objects.filter(offering=course).exists()
    set_plan(course, "in_effect")
    operations.offering_publish(user=world.principal_a, offering_id=course.pk)
    assert Lesson.objects.filter(offering=course).exists()


# --- closing a term ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_closing_a_term_in_the_admin_ends_its_places_and_menu(world, client_for, superuser):
    course = paid_course(world.school_a, fee="0", capacity=1)
    (p2, c2), = family(world.class_a, 1, prefix="tc")  # fmt: skip
    e = enrolment.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk,
                        now=early(course))  # fmt: skip
    waiting = enrolment.enrol(user=p2, child_id=c2.pk, offering_id=course.pk, now=early(course))
    term = course.plan.term
    r = client_for(superuser).post(
        reverse("admin:portal_schoolperiod_changelist"),
        {"action": "make_closed", "_selected_action": [term.pk]},
    )
    assert r.status_code == 302
    assert SchoolPeriod.objects.get(pk=term.pk).status == "closed"
    assert Enrolment.objects.get(pk=e.pk).status == "completed"
    assert Enrolment.objects.get(pk=waiting.pk).status == "withdrawn"
    assert Offering.objects.get(pk=course.pk).status == "finished"
    assert AuditLog.objects.filter(action="afterschool.offering.term_closed").count() == 1
    menu = client_for(world.parent_a).get(reverse("afterschool:menu")).content.decode()
    assert f'action="/afterschool/enrolments/{e.pk}/withdraw/"' not in menu
    assert "历史课程" in menu and "已结课" in menu  # kept in the history


@pytest.mark.django_db
def test_a_term_close_that_fails_below_leaves_everything_as_it_was(world, superuser):
    from portal import terms

    course = paid_course(world.school_a, fee="0")
    e = enrolment.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk,
                        now=early(course))  # fmt: skip

    def boom(**kwargs):
        raise RuntimeError("boom")

    terms.term_closed.connect(boom, dispatch_uid="test-boom")
    try:
        with pytest.raises(RuntimeError):
            terms.term_move(actor=superuser, term_id=course.plan.term_id, to="closed")
    finally:
        terms.term_closed.disconnect(dispatch_uid="test-boom")
    assert SchoolPeriod.objects.get(pk=course.plan.term_id).status == "active"
    assert Enrolment.objects.get(pk=e.pk).status == "enrolled"


# --- plans follow the term ------------------------------------------------------------------


def term(world, status, name):
    return SchoolPeriod.objects.create(
        district=world.school_a.district, name=name, kind="term", status=status,
        start=today() + dt.timedelta(days=60), end=today() + dt.timedelta(days=180),
    )  # fmt: skip


def filed(world, t):
    return plans.plan_save(actor=world.principal_a, term=t, weekdays=[0, 1, 2, 3, 4],
                           start_time=dt.time(15, 30), end_time=dt.time(17, 30),
                           items="托管、作业辅导")  # fmt: skip


@pytest.mark.django_db
def test_plans_are_filed_only_for_draft_or_active_terms(world):
    assert filed(world, term(world, "draft", "下学期")).status == "draft"
    for status in ("closed", "archived"):
        with pytest.raises(ValidationError, match="不能再报送或审批课后服务方案"):
            filed(world, term(world, status, f"旧学期{status}"))
    assert SchoolPlan.objects.count() == 1


@pytest.mark.django_db
def test_a_plan_takes_effect_only_in_an_active_term(world):
    bureau = bureau_afterschool()
    t = term(world, "draft", "下学期")
    plan = filed(world, t)
    plans.plan_submit(actor=world.principal_a, plan_id=plan.pk)
    plans.plan_decide(actor=bureau, plan_id=plan.pk, approve=True)
    with pytest.raises(ValidationError, match="方案只能在学期进行中实施"):
        plans.plan_start(actor=bureau, plan_id=plan.pk)
    SchoolPeriod.objects.filter(pk=t.pk).update(status="active")
    assert plans.plan_start(actor=bureau, plan_id=plan.pk).status == "in_effect"


@pytest.mark.django_db
def test_a_plan_of_a_term_closed_meanwhile_is_neither_submitted_nor_approved(world):
    bureau = bureau_afterschool()
    t = term(world, "active", "本学期二")
    plan = filed(world, t)
    SchoolPeriod.objects.filter(pk=t.pk).update(status="closed")
    with pytest.raises(ValidationError, match="不能再报送或审批"):
        plans.plan_submit(actor=world.principal_a, plan_id=plan.pk)
    SchoolPlan.objects.filter(pk=plan.pk).update(status="submitted")
    with pytest.raises(ValidationError, match="不能再报送或审批"):
        plans.plan_decide(actor=bureau, plan_id=plan.pk, approve=True)
    assert SchoolPlan.objects.get(pk=plan.pk).status == "submitted"


@pytest.mark.django_db(transaction=True)
def test_the_plan_form_offers_no_closed_term(world, client_for):
    term(world, "draft", "下学期")
    term(world, "closed", "去年秋季")
    html = client_for(world.principal_a).get(reverse("afterschool:plan_new")).content.decode()
    assert "下学期" in html and "去年秋季" not in html
