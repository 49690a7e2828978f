"""Enforcement (专项整治, 约谈, sanctions, 通报): the services' rules at their boundaries and
with their refusals, the colour they lead to, the nightly checks, the pages' access."""

import datetime as dt

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils import timezone

from institutions import colour, enforcement
from institutions.enforcement_models import (
    CHECKLIST,
    EnforcementNotice,
    Interview,
    PlannedVisit,
    Sanction,
    Visit,
    VisitItem,
    VisitPhoto,
)
from institutions.models import Institution
from portal.compliance import run_checks
from portal.models import AuditLog, Finding
from tests.institutions.helpers import make_institution, training_staff

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def all_pass(**overrides):
    results = {c.value: (True, "") for c in CHECKLIST}
    results.update(overrides)
    return results


@pytest.fixture
def staff(db):
    return training_staff()


@pytest.fixture
def inst(world, staff):
    return make_institution(staff, world.school_a.district, name="启航数学培训学校")


def visit(actor, inst, *, date=TODAY, **results):
    return enforcement.visit_record(
        actor=actor, institution_id=inst.pk, date=date, results=all_pass(**results)
    )


# --- the draw --------------------------------------------------------------------------------


def test_the_random_draw_is_reproducible_from_its_recorded_seed(world, staff):
    district = world.school_a.district
    for n in range(8):
        make_institution(staff, district, name=f"机构{n}", white=False)
    first = enforcement.round_create(
        actor=staff, name="秋季第一轮", starts_on=TODAY, ends_on=TODAY + dt.timedelta(days=30)
    )
    enforcement.round_draw(actor=staff, round_id=first.pk, district_id=district.pk, count=3,
                           seed=20260901)  # fmt: skip
    again = enforcement.round_create(
        actor=staff, name="复核", starts_on=TODAY, ends_on=TODAY + dt.timedelta(days=30)
    )
    enforcement.round_draw(actor=staff, round_id=again.pk, district_id=district.pk, count=3,
                           seed=20260901)  # fmt: skip
    drawn = sorted(PlannedVisit.objects.filter(round=first).values_list("institution", flat=True))
    redrawn = sorted(PlannedVisit.objects.filter(round=again).values_list("institution", flat=True))
    assert len(drawn) == 3 and drawn == redrawn
    first.refresh_from_db()
    assert (first.draw_seed, first.draw_count, first.draw_district_id) == (20260901, 3, district.pk)
    # the documented recipe: random.Random(seed).sample of the candidates by primary key
    import random

    candidates = enforcement.draw_candidates(district_id=district.pk)
    assert drawn == sorted(random.Random(20260901).sample(candidates, 3))


def test_a_round_is_drawn_once_and_a_draw_without_seed_records_one(world, staff):
    make_institution(staff, world.school_a.district, name="甲机构")
    make_institution(staff, world.school_a.district, name="乙机构")
    rnd = enforcement.round_create(actor=staff, name="专项", starts_on=TODAY, ends_on=TODAY)
    enforcement.round_draw(actor=staff, round_id=rnd.pk, count=1)
    rnd.refresh_from_db()
    assert rnd.draw_seed is not None and rnd.planned.count() == 1
    with pytest.raises(ValidationError, match="已抽取检查对象"):
        enforcement.round_draw(actor=staff, round_id=rnd.pk, count=1)


def test_a_round_ending_before_it_starts_is_refused(staff):
    with pytest.raises(ValidationError, match="结束日期不能早于开始日期"):
        enforcement.round_create(
            actor=staff, name="x", starts_on=TODAY, ends_on=TODAY - dt.timedelta(days=1)
        )


# --- visits ------------------------------------------------------------------------------------


def test_a_visit_without_a_result_for_every_item_is_refused_and_writes_nothing(staff, inst):
    results = all_pass()
    del results["safety"]
    results["hours"] = (None, "")
    before = AuditLog.objects.count()
    with pytest.raises(ValidationError) as exc:
        enforcement.visit_record(actor=staff, institution_id=inst.pk, date=TODAY, results=results)
    message = exc.value.message_dict["items"][0]
    assert "逐项填写结果" in message and "培训时间" in message and "消防与场地" in message
    assert not Visit.objects.exists() and AuditLog.objects.count() == before


def test_a_failed_item_needs_its_note(staff, inst):
    with pytest.raises(ValidationError, match="不合格项目须写明问题：从业人员资质"):
        visit(staff, inst, **{"staff": (False, " ")})
    assert not Visit.objects.exists()


def test_a_failed_item_opens_a_finding_that_the_nightly_run_keeps_then_resolves(staff, inst):
    first = visit(staff, inst, date=TODAY - dt.timedelta(days=3),
                  fees=(False, "未公示收费标准"))  # fmt: skip
    finding = Finding.objects.get(rule=enforcement.RULE_FAILED_ITEM)
    assert finding.institution_id == inst.pk and "未公示收费标准" in finding.message
    assert finding.is_open
    run_checks(for_date=TODAY, rules=[enforcement.RULE_FAILED_ITEM])
    assert Finding.objects.filter(rule=enforcement.RULE_FAILED_ITEM).count() == 1  # same row
    visit(staff, inst, date=TODAY)  # the follow-up passes every item
    assert Visit.objects.get(pk=first.pk).follow_ups.count() == 0  # not asked as a follow-up
    run_checks(for_date=TODAY, rules=[enforcement.RULE_FAILED_ITEM])
    finding.refresh_from_db()
    assert not finding.is_open


def test_photos_are_checked_by_content_and_a_bad_one_refuses_the_visit(staff, inst, settings,
                                                                       tmp_path):  # fmt: skip
    settings.MEDIA_ROOT = tmp_path
    bad = SimpleUploadedFile("x.jpg", b"not an image")
    with pytest.raises(ValidationError, match="检查记录未提交"):
        enforcement.visit_record(actor=staff, institution_id=inst.pk, date=TODAY,
                                 results=all_pass(), files={"licence": [bad]})  # fmt: skip
    assert not Visit.objects.exists() and not VisitPhoto.objects.exists()
    good = SimpleUploadedFile("证照.png", PNG)
    v = enforcement.visit_record(actor=staff, institution_id=inst.pk, date=TODAY,
                                 results=all_pass(), files={"licence": [good]})  # fmt: skip
    photo = v.photos.get()
    assert photo.item.item == "licence" and (tmp_path / "evidence" / photo.path).exists()


def test_a_visit_dated_tomorrow_is_refused(staff, inst):
    with pytest.raises(ValidationError, match="检查日期不能晚于今天"):
        visit(staff, inst, date=TODAY + dt.timedelta(days=1))


def test_only_training_bureau_staff_record_visits(world, inst):
    for user in (world.bureau, world.principal_a):
        with pytest.raises(PermissionDenied):
            visit(user, inst)


# --- 约谈 and sanctions --------------------------------------------------------------------


def test_a_deadline_before_the_interview_is_refused_and_the_same_day_is_accepted(staff, inst):
    day = TODAY - dt.timedelta(days=5)
    with pytest.raises(ValidationError, match="整改期限.*不能早于约谈日期"):
        enforcement.interview_record(
            actor=staff, institution_id=inst.pk, date=day, attendees="法人张某",
            problems="超标培训", deadline=day - dt.timedelta(days=1),
        )  # fmt: skip
    assert not Interview.objects.exists()
    enforcement.interview_record(
        actor=staff, institution_id=inst.pk, date=day, attendees="法人张某",
        problems="超标培训", deadline=day,
    )  # fmt: skip
    assert Interview.objects.count() == 1


def test_a_sanction_without_its_source_is_refused(staff, inst):
    with pytest.raises(ValidationError) as exc:
        enforcement.sanction_decide(actor=staff, institution_id=inst.pk, kind="warning",
                                    decided_on=TODAY, reason="超时培训")  # fmt: skip
    assert "须注明来源" in exc.value.message_dict["source"][0]
    assert not Sanction.objects.exists()


def test_a_source_of_another_institution_is_refused(world, staff, inst):
    other = make_institution(staff, world.school_a.district, name="别家")
    v = visit(staff, other)
    with pytest.raises(ValidationError, match="不属于该机构"):
        enforcement.sanction_decide(actor=staff, institution_id=inst.pk, kind="warning",
                                    decided_on=TODAY, reason="x", visit_id=v.pk)  # fmt: skip


def _rectify(staff, inst, deadline):
    v = visit(staff, inst, date=TODAY - dt.timedelta(days=40), hours=(False, "20:30后上课"))
    return enforcement.sanction_decide(
        actor=staff, institution_id=inst.pk, kind="rectify", reason="超时培训",
        decided_on=TODAY - dt.timedelta(days=40), deadline=deadline, visit_id=v.pk,
    )  # fmt: skip


def _sql_colour(inst, today):
    return (
        Institution.objects.filter(pk=inst.pk)
        .annotate(c=colour.colour_expression(today=today))
        .values_list("c", flat=True)
        .get()
    )


def test_an_open_rectification_greys_from_the_midnight_after_its_deadline(staff, inst):
    deadline = dt.date(2026, 11, 30)
    sanction = _rectify(staff, inst, deadline)
    inst.refresh_from_db()
    on_the_day = colour.verdict(inst, today=deadline)
    assert on_the_day.colour == colour.WHITE and _sql_colour(inst, deadline) == colour.WHITE
    after = colour.verdict(inst, today=deadline + dt.timedelta(days=1))
    assert after.colour == colour.GREY and _sql_colour(inst, deadline + dt.timedelta(days=1)) == (
        colour.GREY
    )
    assert "责令整改逾期未完成（整改期限 2026-11-30）" in after.reasons
    enforcement.sanction_close(actor=staff, sanction_id=sanction.pk, closed_on=TODAY,
                               note="复查合格")  # fmt: skip
    later = deadline + dt.timedelta(days=1)
    assert colour.verdict(inst, today=later).colour == colour.WHITE
    assert _sql_colour(inst, later) == colour.WHITE


def test_the_licence_expiry_still_blacks_at_midnight(staff, world):
    inst = make_institution(staff, world.school_a.district, name="到期机构",
                            licence_expires=dt.date(2026, 12, 31))  # fmt: skip
    assert colour.verdict(inst, today=dt.date(2026, 12, 31)).colour == colour.WHITE
    assert colour.verdict(inst, today=dt.date(2027, 1, 1)).colour == colour.BLACK
    assert _sql_colour(inst, dt.date(2027, 1, 1)) == colour.BLACK


def test_a_rectification_needs_a_deadline_not_before_the_decision(staff, inst):
    v = visit(staff, inst)
    with pytest.raises(ValidationError, match="责令整改须填写整改期限"):
        enforcement.sanction_decide(actor=staff, institution_id=inst.pk, kind="rectify",
                                    decided_on=TODAY, reason="x", visit_id=v.pk)  # fmt: skip
    with pytest.raises(ValidationError, match="不能早于决定日期"):
        enforcement.sanction_decide(
            actor=staff, institution_id=inst.pk, kind="rectify", decided_on=TODAY, reason="x",
            visit_id=v.pk, deadline=TODAY - dt.timedelta(days=1),
        )  # fmt: skip


def test_suspension_greys_until_lifted_and_revocation_blacks(staff, inst):
    v = visit(staff, inst)
    s = enforcement.sanction_decide(
        actor=staff, institution_id=inst.pk, kind="suspend", decided_on=TODAY,
        reason="消防不合格", visit_id=v.pk,
    )  # fmt: skip
    inst.refresh_from_db()
    assert colour.verdict(inst).colour == colour.GREY
    enforcement.sanction_close(actor=staff, sanction_id=s.pk, closed_on=TODAY, note="已整改")
    inst.refresh_from_db()
    assert colour.verdict(inst).colour == colour.WHITE and not inst.suspended_reason
    enforcement.sanction_decide(actor=staff, institution_id=inst.pk, kind="revoke",
                                decided_on=TODAY, reason="拒不整改", visit_id=v.pk)  # fmt: skip
    inst.refresh_from_db()
    assert colour.verdict(inst).colour == colour.BLACK
    assert list(inst.list_changes.values_list("colour", flat=True)[:3]) == [
        "black", "white", "grey"
    ]  # fmt: skip
    with pytest.raises(ValidationError, match="已被吊销"):
        enforcement.sanction_decide(actor=staff, institution_id=inst.pk, kind="warning",
                                    decided_on=TODAY, reason="x", visit_id=v.pk)  # fmt: skip


# --- nightly checks ----------------------------------------------------------------------------


def test_the_overdue_rectification_check_records_the_grey_at_midnight(staff, inst):
    deadline = TODAY - dt.timedelta(days=1)
    _rectify(staff, inst, deadline)
    # as if decided 40 days ago: the register's history then ended white (the decision,
    # recorded today with its deadline already past, recorded grey at once: not that)
    inst.list_changes.filter(colour="grey").order_by("-id").first().delete()
    inst.list_changes.update(changed_at=timezone.now() - dt.timedelta(days=60))
    run_checks(for_date=deadline, rules=[enforcement.RULE_RECTIFY_OVERDUE])
    assert not Finding.objects.filter(rule=enforcement.RULE_RECTIFY_OVERDUE).exists()
    run_checks(for_date=TODAY, rules=[enforcement.RULE_RECTIFY_OVERDUE])
    assert Finding.objects.get(rule=enforcement.RULE_RECTIFY_OVERDUE).institution_id == inst.pk
    change = inst.list_changes.order_by("-changed_at", "-id").first()
    assert change.colour == "grey"
    assert timezone.localtime(change.changed_at) == dt.datetime.combine(
        TODAY, dt.time.min, tzinfo=timezone.get_current_timezone()
    )


def test_no_follow_up_within_n_days_is_a_finding_the_day_after(staff, inst, settings):
    settings.ENFORCEMENT_FOLLOW_UP_DAYS = 10
    day = TODAY - dt.timedelta(days=20)
    visit(staff, inst, date=day, content=(False, "超纲"))
    rule = enforcement.RULE_NO_FOLLOW_UP
    run_checks(for_date=day + dt.timedelta(days=10), rules=[rule])
    assert not Finding.objects.filter(rule=rule, resolved_at=None).exists()
    run_checks(for_date=day + dt.timedelta(days=11), rules=[rule])
    assert Finding.objects.filter(rule=rule, resolved_at=None).count() == 1
    visit(staff, inst, date=TODAY)
    run_checks(for_date=TODAY, rules=[rule])
    assert not Finding.objects.filter(rule=rule, resolved_at=None).exists()


# --- 通报 -------------------------------------------------------------------------------------


def test_a_notice_without_institutions_is_refused(staff):
    with pytest.raises(ValidationError, match="通报须至少列出一家机构"):
        enforcement.notice_publish(actor=staff, title="通报", date=TODAY, entries=[])
    assert not EnforcementNotice.objects.exists()


def test_the_public_pages_list_the_notice_and_the_record_without_inspectors(
    staff, inst, client, django_assert_num_queries
):
    staff.first_name = "检查员王五"
    staff.save()
    v = visit(staff, inst, hours=(False, "21:00 仍在上课"))
    s = enforcement.sanction_decide(actor=staff, institution_id=inst.pk, kind="warning",
                                    decided_on=TODAY, reason="超时培训", visit_id=v.pk)  # fmt: skip
    for n in range(3):
        other = make_institution(staff, inst.district, name=f"其他机构{n}")
        enforcement.notice_publish(actor=staff, title=f"第{n}期", date=TODAY, entries=[
            {"institution_id": other.pk, "violation": "超标培训"}])  # fmt: skip
    notice = enforcement.notice_publish(actor=staff, title="第四期查处通报", date=TODAY, entries=[
        {"institution_id": inst.pk, "violation": "超时培训", "sanction_id": s.pk}])  # fmt: skip
    with django_assert_num_queries(2):  # the count, the page
        listing = client.get(reverse("enforcement:notices")).content.decode()
    assert "第四期查处通报" in listing and "第0期" in listing
    page = client.get(reverse("enforcement:notice", args=[notice.pk])).content.decode()
    assert inst.name in page and "超时培训" in page and "王五" not in page
    detail = client.get(reverse("institutions:detail", args=[inst.pk])).content.decode()
    assert "处理记录" in detail and "警告" in detail and "第四期查处通报" in detail
    assert "王五" not in detail


# --- access -------------------------------------------------------------------------------------


STAFF_PAGES = ["enforcement:rounds", "enforcement:patrols", "enforcement:notice_new"]


def test_staff_pages_refuse_anonymous_schools_and_other_lines(world, staff, inst, client_for):
    urls = [reverse(n) for n in STAFF_PAGES] + [
        reverse("enforcement:institution", args=[inst.pk]),
        reverse("enforcement:visit_new", args=[inst.pk]),
    ]
    for url in urls:
        response = client_for(None).get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))
        assert client_for(world.principal_a).get(url).status_code == 403
        assert client_for(world.bureau).get(url).status_code == 403
        assert client_for(staff).get(url).status_code == 200


def test_visit_photos_are_served_to_training_staff_only(world, staff, inst, settings, tmp_path,
                                                        client_for):  # fmt: skip
    settings.MEDIA_ROOT = tmp_path
    v = enforcement.visit_record(
        actor=staff, institution_id=inst.pk, date=TODAY, results=all_pass(),
        files={"safety": [SimpleUploadedFile("a.png", PNG)]},
    )  # fmt: skip
    url = reverse("enforcement:photo", args=[v.photos.get().pk])
    assert client_for(None).get(url).status_code == 302
    assert client_for(world.bureau).get(url).status_code == 403
    response = client_for(staff).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert VisitItem.objects.filter(visit=v).count() == len(CHECKLIST)


# --- a complaint as the source ------------------------------------------------------------------


def test_a_sanction_from_a_complaint_of_the_institution_shows_no_complainant(
    world, staff, inst, client
):
    from institutions.models import Complaint

    complaint = Complaint.objects.create(
        code_digest="c" * 64, category="overtime", line="institutions", institution=inst,
        district=inst.district, text="周五晚上九点还在上课", contact_name="李举报",
        contact_phone="13900001111",
    )  # fmt: skip
    other = make_institution(staff, world.school_a.district, name="别家")
    with pytest.raises(ValidationError, match="来源举报不存在或不属于该机构"):
        enforcement.sanction_decide(
            actor=staff, institution_id=other.pk, kind="warning", decided_on=TODAY, reason="x",
            complaint_id=complaint.pk,
        )  # fmt: skip
    s = enforcement.sanction_decide(actor=staff, institution_id=inst.pk, kind="warning",
                                    decided_on=TODAY, reason="超时培训",
                                    complaint_id=complaint.pk)  # fmt: skip
    assert s.complaint_id == complaint.pk
    page = client.get(reverse("institutions:detail", args=[inst.pk])).content.decode()
    assert "超时培训" in page and "李举报" not in page and "13900001111" not in page


# --- dashboard -----------------------------------------------------------------------------------


def test_the_panels_count_rounds_and_sanctions_in_a_fixed_number_of_queries(
    world, staff, django_assert_max_num_queries
):
    from institutions import enforcement_dashboard
    from portal.dashboard import Filters

    district = world.school_a.district
    insts = [make_institution(staff, district, name=f"机构{n}") for n in range(4)]
    rnd = enforcement.round_create(actor=staff, name="秋季专项", starts_on=TODAY, ends_on=TODAY)
    enforcement.round_draw(actor=staff, round_id=rnd.pk, district_id=district.pk)
    enforcement.visit_record(actor=staff, institution_id=insts[0].pk, date=TODAY,
                             results=all_pass(fees=(False, "未公示")), round_id=rnd.pk)  # fmt: skip
    v = enforcement.visit_record(actor=staff, institution_id=insts[1].pk, date=TODAY,
                                 results=all_pass(), round_id=rnd.pk)  # fmt: skip
    enforcement.sanction_decide(actor=staff, institution_id=insts[1].pk, kind="warning",
                                decided_on=TODAY, reason="x", visit_id=v.pk)  # fmt: skip
    f = Filters(district=district, month=TODAY.strftime("%Y-%m"))
    with django_assert_max_num_queries(2):
        panel = enforcement_dashboard.inspections(f)
    values = {s.label: [b.value for b in s.bars] for s in panel.series}
    assert values == {"计划检查": [4], "已检查": [2], "有不合格项": [1]}
    with django_assert_max_num_queries(1):
        sanctions = enforcement_dashboard.sanctions(f)
    assert {b.label: b.value for b in sanctions.series[0].bars}["警告"] == 1


# --- the public cache ------------------------------------------------------------------------


def test_a_published_notice_and_a_sanction_show_at_once_on_cached_pages(
    staff, inst, client, settings, django_capture_on_commit_callbacks
):
    from portal.public_cache import _redis, _version_key

    settings.PORTAL_PUBLIC_CACHE_SECONDS = 300
    _redis().incr(_version_key("institutions"))  # past any page another run cached
    listing, detail = reverse("enforcement:notices"), reverse("institutions:detail", args=[inst.pk])
    assert "暂无通报" in client.get(listing).content.decode()
    assert "白名单" in client.get(detail).content.decode()
    v = visit(staff, inst)
    with django_capture_on_commit_callbacks(execute=True):
        s = enforcement.sanction_decide(
            actor=staff, institution_id=inst.pk, kind="suspend", decided_on=TODAY,
            reason="消防不合格", visit_id=v.pk,
        )  # fmt: skip
    assert "灰名单" in client.get(detail).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        entry = {"institution_id": inst.pk, "violation": "消防不合格", "sanction_id": s.pk}
        enforcement.notice_publish(actor=staff, title="第五期通报", date=TODAY, entries=[entry])
    assert "第五期通报" in client.get(listing).content.decode()
    assert "第五期通报" in client.get(detail).content.decode()


def test_the_follow_up_visit_of_an_interview_is_recorded_on_it_and_not_before_it(staff, inst):
    first = visit(staff, inst, date=TODAY - dt.timedelta(days=10), fees=(False, "未公示"))
    interview = enforcement.interview_record(
        actor=staff, institution_id=inst.pk, date=TODAY - dt.timedelta(days=5),
        attendees="法人", problems="收费未公示", deadline=TODAY, visit_id=first.pk,
    )  # fmt: skip
    with pytest.raises(ValidationError, match="复查日期不能早于约谈日期"):
        enforcement.visit_record(
            actor=staff, institution_id=inst.pk, date=TODAY - dt.timedelta(days=6),
            results=all_pass(), interview_id=interview.pk,
        )  # fmt: skip
    again = enforcement.visit_record(
        actor=staff, institution_id=inst.pk, date=TODAY, results=all_pass(),
        interview_id=interview.pk,
    )  # fmt: skip
    interview.refresh_from_db()
    assert interview.follow_up_visit == again and again.follow_up_of == first
