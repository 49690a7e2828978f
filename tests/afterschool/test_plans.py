import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import include, path, reverse

from afterschool import plans
from afterschool.models import AfterschoolPolicy, SchoolPlan
from portal import urls as portal_urls
from portal.compliance import run_checks
from portal.models import AuditLog, Finding, SchoolPeriod, SchoolStaff
from tests.factories import SchoolFactory, SchoolStaffFactory, UserFactory

DAY = dt.date(2026, 11, 23)  # a Monday in the autumn term
SUNDAY = dt.date(2026, 11, 22)
T = dt.time.fromisoformat
WEEK = [0, 1, 2, 3, 4]

# Until portal/urls.py mounts afterschool.urls, these tests mount it themselves.
urlpatterns = [*portal_urls.urlpatterns]
if not any(getattr(p, "namespace", None) == "afterschool" for p in urlpatterns):
    urlpatterns.append(path("afterschool/", include("afterschool.urls")))
pytestmark = pytest.mark.urls(__name__)


@pytest.fixture
def term(world):
    AfterschoolPolicy.objects.update_or_create(
        pk=1, defaults={"min_days": 5, "min_minutes_per_day": 120, "off_work_time": T("17:30")}
    )
    return SchoolPeriod.objects.create(
        district=world.school_a.district,
        kind="term",
        name="2026秋季学期",
        start=dt.date(2026, 9, 1),
        end=dt.date(2027, 1, 22),
        status="active",  # issue 13: a plan takes effect only in an active term
    )


@pytest.fixture
def staff_as(db):
    """A bureau user of the 课后服务 group (like training_staff for 校外培训)."""
    user = UserFactory(username="kehou", is_staff=True)
    user.groups.add(Group.objects.get(name="课后服务"))
    return user


@pytest.fixture
def academic_a(world):
    return SchoolStaffFactory(
        school=world.school_a,
        role=SchoolStaff.Role.ACADEMIC,
        name="教导主任",
        user__username="jd_a",
    ).user


def save(user, term, **overrides):
    data = {
        "term": term,
        "weekdays": WEEK,
        "start_time": T("15:30"),
        "end_time": T("17:30"),
        "items": "作业辅导、托管、社团",
    }
    data.update(overrides)
    return plans.plan_save(actor=user, **data)


def submitted(world, term, **overrides):
    plan = save(world.principal_a, term, **overrides)
    return plans.plan_submit(actor=world.principal_a, plan_id=plan.pk)


def actions(plan):
    return list(
        AuditLog.objects.filter(object_id=str(plan.pk), action__startswith="afterschool.plan.")
        .order_by("id")
        .values_list("action", flat=True)
    )


# --- services ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, ok", [(T("15:31"), False), (T("15:30"), True)], ids=["119min", "120min"]
)
def test_it_refuses_a_day_short_of_120_minutes_by_one(world, term, start, ok):
    plan = save(world.principal_a, term, start_time=start)
    if ok:
        assert plans.plan_submit(actor=world.principal_a, plan_id=plan.pk).status == "submitted"
    else:
        with pytest.raises(ValidationError) as exc:
            plans.plan_submit(actor=world.principal_a, plan_id=plan.pk)
        assert exc.value.message_dict == {"end_time": ["每天只有119分钟，至少120分钟。"]}


@pytest.mark.parametrize("days, ok", [([0, 1, 2, 3], False), (WEEK, True)], ids=["4", "5"])
def test_it_refuses_four_days_a_week(world, term, days, ok):
    plan = save(world.principal_a, term, weekdays=days)
    if ok:
        assert plans.plan_submit(actor=world.principal_a, plan_id=plan.pk).status == "submitted"
    else:
        with pytest.raises(ValidationError) as exc:
            plans.plan_submit(actor=world.principal_a, plan_id=plan.pk)
        assert exc.value.message_dict == {"weekdays": ["每周只安排了4天，至少5天。"]}


@pytest.mark.parametrize("end, ok", [(T("17:29"), False), (T("17:30"), True)])
def test_it_refuses_ending_before_the_districts_off_work_time(world, term, end, ok):
    plan = save(world.principal_a, term, start_time=T("15:00"), end_time=end)
    if ok:
        assert plans.plan_submit(actor=world.principal_a, plan_id=plan.pk).status == "submitted"
    else:
        with pytest.raises(ValidationError) as exc:
            plans.plan_submit(actor=world.principal_a, plan_id=plan.pk)
        assert exc.value.message_dict == {"end_time": ["17:29结束，早于本区下班时间17:30。"]}
    assert SchoolPlan.objects.get(pk=plan.pk).status == ("submitted" if ok else "draft")


def test_the_off_work_time_is_the_districts_setting(world, term):
    AfterschoolPolicy.objects.filter(pk=1).update(off_work_time=T("18:30"))
    plan = save(world.principal_a, term, start_time=T("16:00"), end_time=T("18:00"))
    with pytest.raises(ValidationError, match="18:00结束，早于本区下班时间18:30"):
        plans.plan_submit(actor=world.principal_a, plan_id=plan.pk)


def test_every_missed_rule_is_named_at_once(world, term):
    plan = save(
        world.principal_a, term, weekdays=[0, 2], start_time=T("16:00"), end_time=T("17:00")
    )
    with pytest.raises(ValidationError) as exc:
        plans.plan_submit(actor=world.principal_a, plan_id=plan.pk)
    assert exc.value.message_dict == {
        "weekdays": ["每周只安排了2天，至少5天。"],
        "end_time": ["每天只有60分钟，至少120分钟。", "17:00结束，早于本区下班时间17:30。"],
    }


def test_only_the_principal_or_academic_office_writes_the_plan(world, term, academic_a):
    with pytest.raises(PermissionDenied):
        save(world.teacher_a, term)
    plan = save(academic_a, term)
    assert plan.school == world.school_a
    with pytest.raises(PermissionDenied):
        plans.plan_submit(actor=world.principal_b, plan_id=plan.pk)
    with pytest.raises(PermissionDenied):
        save(world.principal_b, term, plan_id=plan.pk)


def test_one_plan_a_term_and_only_terms_of_the_own_district(world, term):
    save(world.principal_a, term)
    with pytest.raises(ValidationError, match="已有2026秋季学期"):
        save(world.principal_a, term)
    other = SchoolFactory().district
    foreign = SchoolPeriod.objects.create(
        district=other, kind="term", name="外区学期", start=term.start, end=term.end
    )
    with pytest.raises(ValidationError, match="本区的学期"):
        save(world.principal_b, foreign)


def test_a_submitted_plan_cannot_be_edited_until_returned(world, term, staff_as):
    plan = submitted(world, term)
    with pytest.raises(ValidationError, match="不能再修改"):
        save(world.principal_a, term, plan_id=plan.pk, items="改")
    plans.plan_decide(actor=staff_as, plan_id=plan.pk, approve=False, reason="缺少安全预案")
    plan = save(world.principal_a, term, plan_id=plan.pk, items="作业辅导；安全预案见附件")
    assert plan.status == "returned" and plan.return_reason == "缺少安全预案"
    plan = plans.plan_submit(actor=world.principal_a, plan_id=plan.pk)
    assert plan.status == "submitted" and plan.return_reason == ""


def test_the_whole_life_of_a_plan_is_audited(world, term, staff_as):
    plan = submitted(world, term)
    plans.plan_decide(actor=staff_as, plan_id=plan.pk, approve=True)
    plans.plan_start(actor=staff_as, plan_id=plan.pk)
    plans.plan_start(actor=staff_as, plan_id=plan.pk)  # already there: quiet, no second row
    plan = plans.plan_close(actor=staff_as, plan_id=plan.pk)
    assert plan.status == "closed"
    assert actions(plan) == [
        "afterschool.plan.created",
        "afterschool.plan.submitted",
        "afterschool.plan.approved",
        "afterschool.plan.started",
        "afterschool.plan.closed",
    ]
    row = AuditLog.objects.get(action="afterschool.plan.approved")
    assert row.actor == staff_as and row.old == {"status": "submitted"}


@pytest.mark.parametrize(
    "move",
    [
        lambda u, pk: plans.plan_start(actor=u, plan_id=pk),
        lambda u, pk: plans.plan_close(actor=u, plan_id=pk),
        lambda u, pk: plans.plan_decide(actor=u, plan_id=pk, approve=True),
    ],
    ids=["start", "close", "approve"],
)
def test_illegal_moves_from_draft_are_refused(world, term, staff_as, move):
    plan = save(world.principal_a, term)
    with pytest.raises(ValidationError, match="当前为“草稿”"):
        move(staff_as, plan.pk)
    assert SchoolPlan.objects.get(pk=plan.pk).status == "draft"
    assert actions(plan) == ["afterschool.plan.created"]


def test_a_return_needs_a_reason_and_is_audited_with_it(world, term, staff_as):
    plan = submitted(world, term)
    with pytest.raises(ValidationError, match="必须说明原因"):
        plans.plan_decide(actor=staff_as, plan_id=plan.pk, approve=False, reason="  ")
    plans.plan_decide(actor=staff_as, plan_id=plan.pk, approve=False, reason="时段与午休冲突")
    row = AuditLog.objects.get(action="afterschool.plan.returned")
    assert row.new == {"status": "returned", "reason": "时段与午休冲突"}


def test_only_after_school_staff_decide(world, term):
    plan = submitted(world, term)
    for user in (world.bureau, world.principal_a):
        with pytest.raises(PermissionDenied):
            plans.plan_decide(actor=user, plan_id=plan.pk, approve=True)
    assert SchoolPlan.objects.get(pk=plan.pk).status == "submitted"


# --- pages ------------------------------------------------------------------------------


def test_the_school_files_and_submits_through_its_pages(world, term, client_for):
    client = client_for(world.principal_a)
    form = {
        "term": term.pk,
        "weekdays": ["0", "1", "2", "3"],
        "start_time": "15:30",
        "end_time": "17:30",
        "items": "作业辅导",
    }
    response = client.post(reverse("afterschool:plan_new"), form)
    plan = SchoolPlan.objects.get(school=world.school_a)
    assert response.status_code == 302
    url = reverse("afterschool:plan_edit", args=[plan.pk])
    response = client.post(reverse("afterschool:plan_submit", args=[plan.pk]), follow=True)
    assert "每周只安排了4天，至少5天" in response.content.decode()
    assert SchoolPlan.objects.get(pk=plan.pk).status == "draft"
    client.post(url, {**form, "weekdays": ["0", "1", "2", "3", "4"]})
    client.post(reverse("afterschool:plan_submit", args=[plan.pk]))
    assert SchoolPlan.objects.get(pk=plan.pk).status == "submitted"
    page = client.get(reverse("afterschool:plans")).content.decode()
    assert "2026秋季学期" in page and "已提交" in page


def test_the_form_keeps_what_was_typed_on_errors(world, term, client_for):
    response = client_for(world.principal_a).post(
        reverse("afterschool:plan_new"),
        {
            "term": term.pk,
            "weekdays": ["0", "2"],
            "start_time": "17:00",
            "end_time": "16:00",
            "items": "我们的托管安排",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "结束时间应晚于开始时间" in html
    assert "我们的托管安排" in html and 'value="17:00"' in html
    assert not SchoolPlan.objects.exists()


def test_other_staff_read_but_do_not_edit(world, term, client_for):
    plan = save(world.principal_a, term)
    client = client_for(world.teacher_a)
    page = client.get(reverse("afterschool:plan_edit", args=[plan.pk]))
    assert page.status_code == 200 and "提交区教育局审核" not in page.content.decode()
    assert client.get(reverse("afterschool:plan_new")).status_code == 403
    assert client.post(reverse("afterschool:plan_submit", args=[plan.pk])).status_code == 403
    assert client.post(reverse("afterschool:plan_edit", args=[plan.pk]), {}).status_code == 403


def test_school_pages_refuse_other_schools_parents_bureau_and_anonymous(
    world, term, staff_as, client_for
):
    plan = save(world.principal_a, term)
    edit = reverse("afterschool:plan_edit", args=[plan.pk])
    submit = reverse("afterschool:plan_submit", args=[plan.pk])
    assert client_for(world.principal_b).get(edit).status_code == 404
    assert client_for(world.principal_b).post(submit).status_code == 404
    assert (
        "2026秋季学期"
        not in client_for(world.principal_b).get(reverse("afterschool:plans")).content.decode()
    )
    for url in (reverse("afterschool:plans"), reverse("afterschool:plan_new"), edit):
        assert client_for(world.principal_a).get(url).status_code == 200, url
        assert client_for(world.parent_a).get(url).status_code == 403, url
        assert client_for(staff_as).get(url).status_code == 403, url
        assert client_for(None).get(url).status_code == 302, url
    assert client_for(None).post(submit).status_code == 302
    assert SchoolPlan.objects.get(pk=plan.pk).status == "draft"


def test_review_pages_refuse_everyone_but_after_school_staff(world, term, staff_as, client_for):
    plan = submitted(world, term)
    urls = [
        reverse("afterschool:plan_review_list"),
        reverse("afterschool:plan_review", args=[plan.pk]),
    ]
    for url in urls:
        assert client_for(staff_as).get(url).status_code == 200, url
        assert client_for(world.bureau).get(url).status_code == 403, url
        assert client_for(world.principal_a).get(url).status_code == 403, url
        assert client_for(world.parent_a).get(url).status_code == 403, url
        response = client_for(None).get(url)
        assert response.status_code == 302 and "login" in response["Location"], url
    response = client_for(world.bureau).post(urls[1], {"action": "approve"})
    assert response.status_code == 403
    assert SchoolPlan.objects.get(pk=plan.pk).status == "submitted"


def test_after_school_staff_return_with_a_reason_then_approve(world, term, staff_as, client_for):
    plan = submitted(world, term)
    client = client_for(staff_as)
    listing = client.get(reverse("afterschool:plan_review_list")).content.decode()
    assert "甲小学" in listing
    url = reverse("afterschool:plan_review", args=[plan.pk])
    response = client.post(url, {"action": "return", "reason": ""})
    assert response.status_code == 200 and "必须说明原因" in response.content.decode()
    client.post(url, {"action": "return", "reason": "请补充家长自愿原则说明"})
    plan.refresh_from_db()
    assert plan.status == "returned" and plan.return_reason == "请补充家长自愿原则说明"
    school_page = client_for(world.principal_a).get(reverse("afterschool:plans"))
    assert "请补充家长自愿原则说明" in school_page.content.decode()
    plans.plan_submit(actor=world.principal_a, plan_id=plan.pk)
    client = client_for(staff_as)
    client.post(url, {"action": "approve"})
    client.post(url, {"action": "start"})
    assert SchoolPlan.objects.get(pk=plan.pk).status == "in_effect"
    assert AuditLog.objects.filter(action="afterschool.plan.approved", actor=staff_as).exists()


def test_the_review_list_runs_a_fixed_number_of_queries(
    world, term, staff_as, client_for, django_assert_num_queries
):
    submitted(world, term)
    for i in range(8):
        school = SchoolFactory(district=world.school_a.district)
        principal = SchoolStaffFactory(school=school, role="principal", user__username=f"p{i}")
        plans.plan_submit(actor=principal.user, plan_id=save(principal.user, term).pk)
    client = client_for(staff_as)
    url = reverse("afterschool:plan_review_list")
    client.get(url)
    with django_assert_num_queries(5):  # session, user, user and group permissions, plans
        response = client.get(url)
    assert response.status_code == 200 and response.content.decode().count("2026秋季学期") == 9


# --- nightly check ----------------------------------------------------------------------

RULE = "afterschool.school.no_plan_in_effect"


def test_a_school_day_without_a_plan_in_effect_is_found_and_then_resolved(world, term, staff_as):
    run_checks(for_date=DAY, rules=[RULE])
    open_for = set(
        Finding.objects.filter(rule=RULE, resolved_at=None).values_list("school__name", flat=True)
    )
    assert open_for == {"甲小学", "乙小学"}
    plan = submitted(world, term)
    plans.plan_decide(actor=staff_as, plan_id=plan.pk, approve=True)
    run_checks(for_date=DAY, rules=[RULE])  # approved is not yet in effect
    assert Finding.objects.filter(rule=RULE, school=world.school_a, resolved_at=None).exists()
    plans.plan_start(actor=staff_as, plan_id=plan.pk)
    run_checks(for_date=DAY, rules=[RULE])
    assert not Finding.objects.filter(rule=RULE, school=world.school_a, resolved_at=None).exists()
    assert Finding.objects.filter(rule=RULE, school=world.school_b, resolved_at=None).exists()


def test_no_finding_on_a_sunday_nor_on_a_day_the_calendar_does_not_know(world, term):
    run_checks(for_date=SUNDAY, rules=[RULE])
    run = run_checks(for_date=dt.date(2027, 3, 1), rules=[RULE])  # no term, no 2027 calendar
    assert run.status == "succeeded"
    assert not Finding.objects.filter(rule=RULE).exists()
