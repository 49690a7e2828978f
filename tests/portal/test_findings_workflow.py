import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from portal import findings, notices
from portal.models import AuditLog, Finding, Notice, SchoolStaff
from tests.factories import SchoolStaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    user = UserFactory(username="handler", is_staff=True)
    user.groups.add(Group.objects.get(name="课后服务"))
    return user


@pytest.fixture
def provider_finding(db):
    """A finding about a provider: no school of its own until staff assign it to one."""
    today = timezone.localdate()
    return Finding.objects.create(
        rule="afterschool.provider.review_overdue",
        severity="warning",
        subject_key="p:1",
        subject_repr="星火体育",
        message="星火体育年审逾期",
        first_seen=today,
        last_seen=today,
    )


def test_staff_assign_the_school_answers_staff_send_back_then_close(
    world, staff, provider_finding, client_for, django_capture_on_commit_callbacks
):
    f = provider_finding
    c = client_for(world.principal_a)
    assert c.get(reverse("portal:finding_detail", args=[f.pk])).status_code == 404  # not yet
    with django_capture_on_commit_callbacks(execute=True):
        findings.finding_assign(
            actor=staff, finding_id=f.pk, school_id=world.school_a.pk, note="请核查合作机构资质"
        )
    assert Notice.objects.filter(user=world.principal_a).count() == 1
    assert "星火体育年审逾期" in c.get(reverse("portal:school_findings")).content.decode()
    r = c.post(reverse("portal:finding_detail", args=[f.pk]), {"answer": ""})
    assert "请填写整改情况" in r.content.decode()
    with pytest.raises(PermissionDenied):  # a teacher does not answer for the school
        findings.finding_answer(actor=world.teacher_a, finding_id=f.pk, answer="x")
    with pytest.raises(PermissionDenied):  # nor another school
        findings.finding_answer(actor=world.principal_b, finding_id=f.pk, answer="x")
    c.post(reverse("portal:finding_detail", args=[f.pk]), {"answer": "已暂停该机构课程"})
    with pytest.raises(ValidationError):
        findings.finding_return(actor=staff, finding_id=f.pk, note="")
    with django_capture_on_commit_callbacks(execute=True):
        findings.finding_return(actor=staff, finding_id=f.pk, note="请附上暂停通知")
    assert Notice.objects.filter(user=world.principal_a).count() == 2
    findings.finding_answer(actor=world.principal_a, finding_id=f.pk, answer="已附通知")
    findings.finding_close(actor=staff, finding_id=f.pk, note="整改到位")
    f.refresh_from_db()
    assert f.workflow == "closed" and f.answer == "已附通知"
    assert list(f.steps.values_list("action", flat=True)) == [
        "assigned",
        "answered",
        "returned",
        "answered",
        "closed",
    ]
    assert AuditLog.objects.filter(action__startswith="portal.finding.").count() == 5
    with pytest.raises(ValidationError):  # closed is closed
        findings.finding_return(actor=staff, finding_id=f.pk, note="again")


def test_only_staff_with_the_permission_handle_findings(world, provider_finding, client_for):
    with pytest.raises(PermissionDenied):
        findings.finding_assign(
            actor=world.principal_a, finding_id=provider_finding.pk, school_id=world.school_a.pk
        )
    nobody = UserFactory(username="no_group", is_staff=True)
    with pytest.raises(PermissionDenied):
        findings.finding_close(actor=nobody, finding_id=provider_finding.pk)
    page = client_for(world.principal_a).get(
        reverse("dashboard:finding", args=[provider_finding.pk])
    )
    assert page.status_code == 403  # the portal's 403 page, not the admin's login


def test_a_finding_the_checks_no_longer_see_is_marked_and_kept(world, staff):
    from portal.compliance import Found, register, run_checks

    seen = {"on": True}

    @register("portal.test.flaky", title="测试", severity="info")
    def flaky(for_date):
        if seen["on"]:
            yield Found(subject=world.school_a, school=world.school_a, message="测试问题")

    today = timezone.localdate()
    run_checks(for_date=today, rules=["portal.test.flaky"])
    f = Finding.objects.get(rule="portal.test.flaky")
    findings.finding_assign(actor=staff, finding_id=f.pk, school_id=world.school_a.pk)
    seen["on"] = False
    run_checks(for_date=today + dt.timedelta(days=1), rules=["portal.test.flaky"])
    f.refresh_from_db()
    assert f.resolved_at is not None and f.workflow == "assigned"  # marked, kept, still to do
    from portal import compliance

    compliance._registry.pop("portal.test.flaky")


def test_new_findings_reach_the_school_and_the_digest_is_one_mail_once(
    world, django_capture_on_commit_callbacks, settings
):
    from portal.compliance import Found, register, run_checks

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    world.principal_a.email = "head@example.edu.cn"
    world.principal_a.save()
    SchoolStaffFactory(school=world.school_a, role=SchoolStaff.Role.ACADEMIC)

    @register("portal.test.two", title="测试", severity="info")
    def two(for_date):
        yield Found(subject=world.school_a, school=world.school_a, message="第一个问题")
        yield Found(subject=world.class_a, school=world.school_a, message="第二个问题")

    with django_capture_on_commit_callbacks(execute=True):
        run_checks(for_date=timezone.localdate(), rules=["portal.test.two"])
    assert Notice.objects.filter(user=world.principal_a).count() == 2
    assert notices.digest_users() == [world.principal_a.pk]  # the 教导处 has no e-mail
    assert notices.digest_for(world.principal_a.pk) == 2
    assert len(mail.outbox) == 1 and "第一个问题" in mail.outbox[0].body
    assert "第二个问题" in mail.outbox[0].body
    assert notices.digest_for(world.principal_a.pk) == 0 and len(mail.outbox) == 1  # never twice
    from portal import compliance

    compliance._registry.pop("portal.test.two")


def test_a_failed_send_leaves_the_notices_to_the_retry(world, monkeypatch):
    world.parent_a.email = "parent@example.com"
    world.parent_a.save()
    Notice.objects.create(user=world.parent_a, key="k1", message="账单到期")

    def down(*args, **kwargs):  # the mail server, at the edge of the world
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(notices, "send_mail", down)
    with pytest.raises(ConnectionRefusedError):
        notices.digest_for(world.parent_a.pk)
    assert Notice.objects.get(key="k1").emailed_at is None
    monkeypatch.undo()
    assert notices.digest_for(world.parent_a.pk) == 1


def test_each_user_sees_only_what_was_sent_to_them(world, client_for):
    Notice.objects.create(user=world.parent_a, key="a", message="甲家长的通知")
    Notice.objects.create(user=world.principal_a, key="b", message="甲校长的通知")
    html = client_for(world.parent_a).get(reverse("inbox")).content.decode()
    assert "甲家长的通知" in html and "甲校长的通知" not in html
    assert client_for(None).get(reverse("inbox")).status_code == 302
    home = client_for(world.parent_a).get(reverse("portal:parent_home")).content.decode()
    assert "甲家长的通知" in home


def test_returned_plans_and_cases_and_absences_reach_who_must_hear(
    world, client_for, django_capture_on_commit_callbacks
):
    from afterschool import enrolment, lessons, plans
    from tests.afterschool.fees_helpers import during, early, paid_course, today
    from tests.afterschool.helpers import live_plan

    plan = live_plan(world.school_a, status="submitted")
    decider = UserFactory(username="as_decider", is_staff=True)
    decider.groups.add(Group.objects.get(name="课后服务"))
    with django_capture_on_commit_callbacks(execute=True):
        plans.plan_decide(actor=decider, plan_id=plan.pk, approve=False, reason="时间不足")
    assert Notice.objects.filter(user=world.principal_a, message__contains="时间不足").exists()
    course = paid_course(world.school_a, fee="0")
    enrolment.enrol(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk, now=early(course)
    )
    lesson = course.lessons.get(date=today())
    with django_capture_on_commit_callbacks(execute=True):
        lessons.roll_submit(
            user=world.teacher_a,
            lesson_id=lesson.pk,
            marks={world.child_a.pk: "absent"},
            now=during(lesson),
        )
    assert Notice.objects.filter(user=world.parent_a, message__contains="缺勤").count() == 1


def test_parents_hear_once_of_a_bill_due_within_three_days(
    world, django_capture_on_commit_callbacks
):
    from afterschool import enrolment
    from afterschool.models import Bill
    from afterschool.tasks import bills_remind
    from tests.afterschool.fees_helpers import early, paid_course

    course = paid_course(world.school_a)
    enrolment.enrol(
        user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk, now=early(course)
    )
    bill = Bill.objects.get(child=world.child_a)
    too_early = (bill.due_on - dt.timedelta(days=4)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        assert bills_remind(today=too_early) == 0
        assert bills_remind(today=(bill.due_on - dt.timedelta(days=3)).isoformat()) == 1
        bills_remind(today=(bill.due_on - dt.timedelta(days=2)).isoformat())
    assert Notice.objects.filter(user=world.parent_a, key=f"bill:{bill.pk}:due").count() == 1


def test_a_returned_case_reaches_the_school_that_sent_it(world, django_capture_on_commit_callbacks):
    from cases.models import Case
    from cases.services import case_review, case_submit

    case = case_submit(
        user=world.principal_a,
        title="分层作业",
        themes=["作业管理"],
        body="我校推行分层作业设计，" * 30,
    )
    editor = UserFactory(username="case_editor", is_staff=True)
    editor.groups.add(Group.objects.get(name="案例库"))
    with django_capture_on_commit_callbacks(execute=True):
        case_review(actor=editor, case_id=case.pk, to=Case.Status.RETURNED, comment="请补充数据")
    assert Notice.objects.filter(user=world.principal_a, message__contains="请补充数据").exists()
