"""Community sites (社区托管点): the safety-check gate at its boundary, the register, safety
checks with evidence, operator accounts, the operator's courses on the engine (create,
publish, enrol, roll-call), each refusal writing nothing."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from afterschool import enrolment, lessons, sites
from afterschool.models import CareSite, Enrolment, Lesson, Offering, SiteSafetyCheck
from portal.access import NOBODY, SITE, kind_of
from portal.models import AuditLog
from tests.afterschool.test_sites_helpers import (
    bureau_as,
    course_fields,
    operator_of,
    plan_in_effect,
    site_for,
)

pytestmark = pytest.mark.django_db

D = dt.date(2025, 3, 15)
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"


def _today():
    return timezone.localdate()


# --- the gate --------------------------------------------------------------------------------


def test_a_check_exactly_twelve_months_old_keeps_the_site_open(world):
    site = site_for(world.school_a, safety_checked_on=D)
    assert sites.open_problem(site, dt.date(2026, 3, 15)) is None


def test_one_day_more_shuts_the_site_with_its_reason(world):
    site = site_for(world.school_a, safety_checked_on=D)
    problem = sites.open_problem(site, dt.date(2026, 3, 16))
    assert problem == (
        f"{site.name}最近一次安全检查为 2025-03-15，已超过12个月（有效至 2026-03-15），"
        "重新检查合格前课程暂不开放。"
    )


def test_a_check_of_29_february_is_good_through_28_february(world):
    site = site_for(world.school_a, safety_checked_on=dt.date(2024, 2, 29))
    assert sites.open_problem(site, dt.date(2025, 2, 28)) is None
    assert sites.open_problem(site, dt.date(2025, 3, 1)) is not None


def test_the_months_are_a_setting(world, settings):
    settings.SITES_SAFETY_CHECK_MONTHS = 6
    site = site_for(world.school_a, safety_checked_on=D)
    assert sites.open_problem(site, dt.date(2025, 9, 15)) is None
    assert "已超过6个月" in sites.open_problem(site, dt.date(2025, 9, 16))


def test_no_check_or_stopped_shuts_a_site_and_a_school_site_has_no_gate(world):
    assert "尚无安全检查记录" in sites.open_problem(
        site_for(world.school_a, safety_checked_on=None)
    )
    assert "已停用" in sites.open_problem(site_for(world.school_a, active=False))
    school_site = CareSite.objects.create(
        kind="school", name="甲小学", district=world.school_a.district, school=world.school_a,
        capacity=100,
    )  # fmt: skip
    assert sites.open_problem(school_site) is None


@pytest.mark.parametrize(
    "checked,shut", [(dt.date(2026, 3, 15), False), (dt.date(2026, 3, 14), True)]
)
def test_the_nightly_query_agrees_with_the_gate_at_the_boundary(world, checked, shut):
    site = site_for(world.school_a, safety_checked_on=checked)
    today = dt.date(2027, 3, 15)
    assert sites.sites_with_problem(today).filter(pk=site.pk).exists() is shut
    assert (sites.open_problem(site, today) is not None) is shut


# --- the register ----------------------------------------------------------------------------

SITE_DATA = {
    "name": "阳光社区小学堂", "street": "城关街道", "community": "阳光社区",
    "address": "阳光路8号", "capacity": 30, "contact_name": "王主任",
    "contact_phone": "13912345678",
}  # fmt: skip


def test_the_bureau_registers_a_site_shut_until_its_first_check(world):
    user = bureau_as()
    site = sites.site_create(actor=user, partner_school_id=world.school_a.pk, **SITE_DATA)
    assert site.kind == "community" and site.district_id == world.school_a.district_id
    assert "尚无安全检查记录" in sites.open_problem(site)
    log = AuditLog.objects.get(action="afterschool.site.created")
    assert "13912345678" not in str(log.new) and "139****5678" in str(log.new)


def test_a_site_needs_a_phone_and_a_capacity_and_nothing_is_written(world):
    user = bureau_as()
    with pytest.raises(ValidationError) as exc:
        sites.site_create(
            actor=user, partner_school_id=world.school_a.pk,
            **{**SITE_DATA, "contact_phone": "12345", "capacity": 0},
        )  # fmt: skip
    assert set(exc.value.message_dict) == {"contact_phone", "capacity"}
    assert not CareSite.objects.exists()


def test_only_the_afterschool_line_keeps_the_register(world):
    with pytest.raises(PermissionDenied):
        sites.site_create(actor=world.bureau, partner_school_id=world.school_a.pk, **SITE_DATA)
    with pytest.raises(PermissionDenied):
        sites.site_create(actor=world.principal_a, partner_school_id=world.school_a.pk, **SITE_DATA)


def test_capacity_never_below_a_live_course_nor_a_new_partner_school(world):
    user = bureau_as()
    plan_in_effect(world.school_a)
    site = site_for(world.school_a, capacity=30)
    op = operator_of(site)
    sites.course_create(actor=op, **course_fields(capacity=20))
    fields = {**SITE_DATA, "capacity": 20, "partner_school_id": world.school_a.pk}
    sites.site_update(actor=user, site_id=site.pk, **fields)  # at the course's places
    with pytest.raises(ValidationError) as exc:
        sites.site_update(actor=user, site_id=site.pk, **{**fields, "capacity": 19})
    assert exc.value.message_dict["capacity"] == [
        "容纳人数：托管点已有名额为20人的课程，不能少于20。"
    ]
    with pytest.raises(ValidationError) as exc:
        sites.site_update(
            actor=user, site_id=site.pk, **{**fields, "partner_school_id": world.school_b.pk}
        )
    assert "partner_school" in exc.value.message_dict
    site.refresh_from_db()
    assert site.capacity == 20 and site.partner_school_id == world.school_a.pk


# --- safety checks ---------------------------------------------------------------------------


def test_a_new_check_reopens_a_site_and_keeps_the_history(world):
    user = bureau_as()
    site = site_for(world.school_a, safety_checked_on=_today() - dt.timedelta(days=800))
    assert sites.open_problem(site) is not None
    sites.safety_check_record(
        actor=user, site_id=site.pk, checked_on=_today(), checked_by="安监员",
        note="消防通道畅通", files=[SimpleUploadedFile("检查.pdf", PDF)],
    )  # fmt: skip
    site.refresh_from_db()
    assert site.safety_checked_on == _today() and sites.open_problem(site) is None
    row = SiteSafetyCheck.objects.get(site=site)
    assert row.file_kind == "pdf" and row.file_path and row.file_name == "检查.pdf"
    # an older check entered late is kept, but does not move the date back
    sites.safety_check_record(
        actor=user, site_id=site.pk, checked_on=_today() - dt.timedelta(days=30),
        checked_by="安监员",
    )  # fmt: skip
    site.refresh_from_db()
    assert site.safety_checked_on == _today()
    assert SiteSafetyCheck.objects.filter(site=site).count() == 2
    assert AuditLog.objects.filter(action="afterschool.site.safety_checked").count() == 2


def test_a_check_dated_tomorrow_or_a_text_file_is_refused_and_nothing_written(world):
    user = bureau_as()
    site = site_for(world.school_a, safety_checked_on=None)
    with pytest.raises(ValidationError) as exc:
        sites.safety_check_record(
            actor=user, site_id=site.pk, checked_on=_today() + dt.timedelta(days=1),
            checked_by="安监员",
        )  # fmt: skip
    assert exc.value.message_dict["checked_on"] == ["检查日期：不能晚于今天。"]
    with pytest.raises(ValidationError) as exc:
        sites.safety_check_record(
            actor=user, site_id=site.pk, checked_on=_today(), checked_by="安监员",
            files=[SimpleUploadedFile("假.pdf", b"not a pdf")],
        )  # fmt: skip
    assert "不是 PDF、JPG 或 PNG 文件" in str(exc.value.message_dict["files"])
    assert not SiteSafetyCheck.objects.exists()
    site.refresh_from_db()
    assert site.safety_checked_on is None


# --- operators -------------------------------------------------------------------------------


def test_an_operator_account_with_a_one_time_password_then_deactivated(world):
    user = bureau_as()
    site = site_for(world.school_a)
    operator, password = sites.operator_create(
        actor=user, site_id=site.pk, username="xingfu_op", name="李社工"
    )
    assert operator.user.check_password(password) and operator.user.username == "xingfu_op"
    assert kind_of(operator.user) == SITE
    log = AuditLog.objects.get(action="afterschool.site.operator_created")
    assert password not in str(log.new)
    with pytest.raises(ValidationError) as exc:
        sites.operator_create(actor=user, site_id=site.pk, username="XINGFU_op", name="张")
    assert exc.value.message_dict["username"] == ["登录账号“XINGFU_op”已被使用，请换一个。"]
    sites.operator_deactivate(actor=user, operator_id=operator.pk)
    operator.user.refresh_from_db()
    assert kind_of(operator.user) == NOBODY


# --- the operator's courses ------------------------------------------------------------------


def test_a_course_at_the_site_capacity_is_the_partner_schools_free_course(world):
    plan = plan_in_effect(world.school_a)
    site = site_for(world.school_a, capacity=12)
    op = operator_of(site)
    course = sites.course_create(actor=op, **course_fields(capacity=12))
    assert (course.school_id, course.plan_id, course.site_id, course.kind) == (
        world.school_a.pk, plan.pk, site.pk, "community",
    )  # fmt: skip
    assert course.fee_per_lesson == 0 and course.status == "draft"
    with pytest.raises(ValidationError) as exc:
        sites.course_create(actor=op, **course_fields(capacity=13))
    assert exc.value.message_dict["capacity"] == ["名额：不能超过托管点容纳人数12人。"]
    assert Offering.objects.count() == 1


def test_no_course_without_the_partner_schools_plan_in_effect(world):
    site = site_for(world.school_a)
    with pytest.raises(ValidationError) as exc:
        sites.course_create(actor=operator_of(site), **course_fields())
    assert "没有实施中的课后服务方案" in exc.value.message_dict["name"][0]
    assert not Offering.objects.exists()


def test_only_an_operator_creates_and_only_its_own_site_is_published(world):
    plan_in_effect(world.school_a)
    site = site_for(world.school_a)
    other = operator_of(site_for(world.school_a), "other_op")
    course = sites.course_create(actor=operator_of(site), **course_fields())
    with pytest.raises(PermissionDenied):
        sites.course_create(actor=world.principal_a, **course_fields())
    from django.http import Http404

    with pytest.raises(Http404):
        sites.course_publish(actor=other, offering_id=course.pk)
    course.refresh_from_db()
    assert course.status == "draft"


def test_publishing_generates_lessons_and_overlapping_courses_share_the_site(world):
    plan_in_effect(world.school_a)
    site = site_for(world.school_a, capacity=20)
    op = operator_of(site)
    first = sites.course_create(actor=op, **course_fields(capacity=12))
    sites.course_publish(actor=op, offering_id=first.pk)
    assert Lesson.objects.filter(offering=first).exists()
    fits = sites.course_create(actor=op, **course_fields(name="剪纸", capacity=8))
    over = sites.course_create(actor=op, **course_fields(name="围棋", capacity=9))
    with pytest.raises(ValidationError) as exc:
        sites.course_publish(actor=op, offering_id=over.pk)
    assert exc.value.messages == [
        f"{site.name}容纳20人，同一时段已开放的课程有12个名额，本课程9个名额超出容纳人数。"
    ]
    sites.course_publish(actor=op, offering_id=fits.pk)  # 12 + 8 = 20: at the capacity
    over.refresh_from_db()
    assert over.status == "draft" and not Lesson.objects.filter(offering=over).exists()


def test_a_shut_site_neither_publishes_nor_enrols(world):
    plan_in_effect(world.school_a)
    site = site_for(world.school_a)
    op = operator_of(site)
    tomorrow = _today() + dt.timedelta(days=1)
    course = sites.course_create(actor=op, **course_fields(starts_on=tomorrow))
    draft = sites.course_create(actor=op, **course_fields(name="书法", starts_on=tomorrow))
    sites.course_publish(actor=op, offering_id=course.pk)
    CareSite.objects.filter(pk=site.pk).update(safety_checked_on=_today() - dt.timedelta(days=400))
    with pytest.raises(ValidationError) as exc:
        sites.course_publish(actor=op, offering_id=draft.pk)
    assert "重新检查合格前课程暂不开放" in exc.value.messages[0]
    with pytest.raises(ValidationError) as exc:
        enrolment.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk)
    assert "重新检查合格前课程暂不开放" in exc.value.messages[0]
    assert not Enrolment.objects.exists()


def test_a_parent_enrols_and_the_operator_takes_the_roll(world):
    plan_in_effect(world.school_a)
    site = site_for(world.school_a)
    op = operator_of(site)
    course = sites.course_create(
        actor=op, **course_fields(starts_on=_today() + dt.timedelta(days=1))
    )
    sites.course_publish(actor=op, offering_id=course.pk)
    enrolment.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk)
    lesson = Lesson.objects.filter(offering=course).order_by("date").first()
    after = lessons.starts_at(lesson) + dt.timedelta(minutes=1)
    lessons.roll_submit(user=op, lesson_id=lesson.pk, marks={world.child_a.pk: "present"},
                        now=after)  # fmt: skip
    lesson.refresh_from_db()
    assert lesson.status == Lesson.Status.HELD and lesson.roll_by == op
    other = operator_of(site_for(world.school_a), "other_op")
    with pytest.raises(PermissionDenied):
        lessons.teacher_sign(user=other, lesson_id=lesson.pk)


def test_a_pupil_of_another_school_of_the_district_enrols_at_the_site(world):
    from tests.factories import ParentFactory

    plan_in_effect(world.school_a)
    site = site_for(world.school_a)
    op = operator_of(site)
    course = sites.course_create(
        actor=op, **course_fields(starts_on=_today() + dt.timedelta(days=1))
    )
    sites.course_publish(actor=op, offering_id=course.pk)
    parent_b = ParentFactory(user__username="parent_b")
    world.child_b.parents.add(parent_b)
    row = enrolment.enrol(user=parent_b.user, child_id=world.child_b.pk, offering_id=course.pk)
    assert row.status == Enrolment.Status.ENROLLED


def test_capacity_never_below_the_courses_open_at_one_time(world):
    plan_in_effect(world.school_a)
    site = site_for(world.school_a, capacity=20)
    op = operator_of(site)
    for name, places in (("阅读", 12), ("剪纸", 8)):
        course = sites.course_create(actor=op, **course_fields(name=name, capacity=places))
        sites.course_publish(actor=op, offering_id=course.pk)
    fields = {**SITE_DATA, "partner_school_id": world.school_a.pk}
    with pytest.raises(ValidationError) as exc:
        sites.site_update(actor=bureau_as(), site_id=site.pk, **{**fields, "capacity": 19})
    assert exc.value.message_dict["capacity"] == [
        "容纳人数：托管点同一时段已开放的课程共有20个名额，不能少于20。"
    ]
    site.refresh_from_db()
    assert site.capacity == 20
