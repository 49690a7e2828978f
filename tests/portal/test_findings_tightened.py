"""The findings workflow tightened (issue 21, item 5): send back only an answered finding;
assign only to an existing school or institution of the finding's district; bureau staff
handle only the findings of their own line (or the superuser); notes within
PORTAL_FINDING_NOTE_MAX_CHARS. Each rule with its refusal and its boundary; the POSTs run
outside the test transaction as production runs them."""

import itertools

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from institutions.models import Institution
from portal import findings
from portal.models import AuditLog, Finding, FindingStep
from tests.factories import SchoolFactory, UserFactory

_keys = itertools.count(1)
_codes = itertools.count(1)


def staff_of(group, username):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def handler(db):
    """Bureau staff of the after-school line."""
    return staff_of("课后服务", "as_handler")


@pytest.fixture
def cases_editor(db):
    """Bureau staff of the case library: holds portal.change_finding (every line does,
    portal/setup.py SHARED_VIEW), but of another line."""
    return staff_of("案例库", "cases_editor")


def make_finding(rule="afterschool.offering.over_capacity", **fields):
    today = timezone.localdate()
    data = {"rule": rule, "severity": "warning", "subject_key": f"k:{next(_keys)}",
            "subject_repr": "课程", "message": "报名人数超过容量", "first_seen": today,
            "last_seen": today}  # fmt: skip
    return Finding.objects.create(**{**data, **fields})


def make_institution(district, name="某培训机构"):
    return Institution.objects.create(
        name=name, credit_code=f"91440100MATIGHT{next(_codes):03d}", category="subject",
        mode="offline", nature="non_profit", district=district,
    )  # fmt: skip


def written(finding):
    """What a refused step must not have changed."""
    finding.refresh_from_db()
    return (
        finding.workflow,
        finding.assigned_school_id,
        finding.assigned_institution_id,
        FindingStep.objects.filter(finding=finding).count(),
        AuditLog.objects.filter(action__startswith="portal.finding.").count(),
    )


def answered(world, handler, **fields):
    f = make_finding(school=world.school_a, **fields)
    findings.finding_assign(actor=handler, finding_id=f.pk, school_id=world.school_a.pk)
    findings.finding_answer(actor=world.principal_a, finding_id=f.pk, answer="已调整人数")
    return f


# --- send back only what was answered -------------------------------------------------------


@pytest.mark.django_db
def test_a_new_finding_cannot_be_sent_back(world, handler):
    f = make_finding(school=world.school_a)
    before = written(f)
    with pytest.raises(ValidationError, match="只有已反馈整改的检查发现才能退回"):
        findings.finding_return(actor=handler, finding_id=f.pk, note="请继续整改")
    assert written(f) == before == ("new", None, None, 0, 0)


@pytest.mark.django_db
def test_an_assigned_unanswered_finding_cannot_be_sent_back(world, handler):
    f = make_finding(school=world.school_a)
    findings.finding_assign(actor=handler, finding_id=f.pk, school_id=world.school_a.pk)
    before = written(f)
    with pytest.raises(ValidationError, match="当前为“已交办”"):
        findings.finding_return(actor=handler, finding_id=f.pk, note="请继续整改")
    assert written(f) == before


@pytest.mark.django_db
def test_an_answered_finding_is_sent_back_to_its_school(world, handler):
    f = answered(world, handler)
    findings.finding_return(actor=handler, finding_id=f.pk, note="请附上调整后的名单")
    f.refresh_from_db()
    assert (f.workflow, f.assigned_school_id) == ("assigned", world.school_a.pk)
    assert f.steps.last().action == "returned"


# --- assign only to an existing school or institution of the finding's district ---------------


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [-1, 0, 2**63, 999_999])
def test_an_institution_that_does_not_exist_is_refused_naming_the_field(world, handler, bad):
    f = make_finding(rule="afterschool.provider.review_overdue")  # no district of its own
    before = written(f)
    with pytest.raises(ValidationError) as exc:
        findings.finding_assign(actor=handler, finding_id=f.pk, institution_id=bad)
    assert "institution" in exc.value.message_dict
    assert "交办培训机构不存在" in exc.value.message_dict["institution"][0]
    assert written(f) == before


@pytest.mark.django_db
def test_an_institution_of_another_district_is_refused_one_of_its_own_accepted(world):
    staff = staff_of("校外培训", "training")
    here = make_institution(world.school_a.district, "本区机构")
    there = make_institution(SchoolFactory().district, "外区机构")
    f = make_finding(rule="institutions.course.price_over_cap", institution_id=here.pk)
    before = written(f)
    with pytest.raises(ValidationError) as exc:
        findings.finding_assign(actor=staff, finding_id=f.pk, institution_id=there.pk)
    assert "不属于该检查发现所在的区" in exc.value.message_dict["institution"][0]
    assert written(f) == before
    findings.finding_assign(actor=staff, finding_id=f.pk, institution_id=here.pk)
    f.refresh_from_db()
    assert (f.workflow, f.assigned_institution_id) == ("assigned", here.pk)


@pytest.mark.django_db
def test_a_school_of_another_district_is_refused_one_of_its_own_accepted(world, handler):
    elsewhere = SchoolFactory(name="外区学校")
    assert elsewhere.district_id != world.school_a.district_id
    f = make_finding(school=world.school_a)
    before = written(f)
    with pytest.raises(ValidationError) as exc:
        findings.finding_assign(actor=handler, finding_id=f.pk, school_id=elsewhere.pk)
    assert "交办学校" in exc.value.message_dict["school"][0]
    with pytest.raises(ValidationError, match="交办学校不存在"):
        findings.finding_assign(actor=handler, finding_id=f.pk, school_id=-1)
    assert written(f) == before
    # the neighbouring school of the same district is fine
    findings.finding_assign(actor=handler, finding_id=f.pk, school_id=world.school_b.pk)
    f.refresh_from_db()
    assert f.assigned_school_id == world.school_b.pk
    # and the dashboard offers only the district's schools
    assert set(findings.assignable_schools(f)) == {world.school_a, world.school_b}


@pytest.mark.django_db
def test_a_finding_of_no_district_goes_to_any_existing_school(world, handler):
    elsewhere = SchoolFactory(name="外区学校")
    f = make_finding(rule="afterschool.provider.review_overdue")
    assert findings.district_of(f) is None
    findings.finding_assign(actor=handler, finding_id=f.pk, school_id=elsewhere.pk)
    f.refresh_from_db()
    assert f.assigned_school_id == elsewhere.pk


# --- each line handles its own findings ------------------------------------------------------


@pytest.mark.django_db
def test_another_lines_staff_cannot_close_assign_or_send_back(world, handler, cases_editor):
    new = make_finding(school=world.school_a)
    done = answered(world, handler)
    assert cases_editor.has_perm(findings.PERM)  # the permission alone is not enough
    before = (written(new), written(done))
    with pytest.raises(PermissionDenied):
        findings.finding_close(actor=cases_editor, finding_id=new.pk, note="无需处理")
    with pytest.raises(PermissionDenied):
        findings.finding_close(actor=cases_editor, finding_id=done.pk, note="整改到位")
    with pytest.raises(PermissionDenied):
        findings.finding_assign(actor=cases_editor, finding_id=new.pk, school_id=world.school_a.pk)
    with pytest.raises(PermissionDenied):
        findings.finding_return(actor=cases_editor, finding_id=done.pk, note="再改")
    with pytest.raises(PermissionDenied):  # the homework line neither
        findings.finding_close(actor=world.bureau, finding_id=done.pk, note="整改到位")
    assert (written(new), written(done)) == before
    findings.finding_close(actor=handler, finding_id=done.pk, note="整改到位")  # its own line
    assert written(done)[0] == "closed"


@pytest.mark.django_db
def test_another_lines_staff_cannot_answer_for_an_institution(world):
    training = staff_of("校外培训", "training")
    inst = make_institution(world.school_a.district)
    f = make_finding(rule="institutions.review.overdue", institution_id=inst.pk)
    findings.finding_assign(actor=training, finding_id=f.pk, institution_id=inst.pk)
    with pytest.raises(PermissionDenied):
        findings.finding_answer(actor=world.bureau, finding_id=f.pk, answer="机构已整改")
    findings.finding_answer(actor=training, finding_id=f.pk, answer="机构已整改")
    assert written(f)[0] == "answered"


@pytest.mark.django_db
def test_the_superuser_closes_any_line_and_the_shared_cores_findings_are_every_lines(
    world, superuser, cases_editor
):
    f = make_finding(school=world.school_a)
    findings.finding_close(actor=superuser, finding_id=f.pk, note="无需处理")
    core = make_finding(rule="portal.school.no_principal", school=world.school_a)
    findings.finding_close(actor=cases_editor, finding_id=core.pk, note="已添加校长")
    assert written(f)[0] == written(core)[0] == "closed"


@pytest.mark.django_db
def test_a_rule_of_no_known_line_is_the_superusers_only(world, handler, superuser):
    f = make_finding(rule="unknown.rule")
    assert findings.line_of(f) is None
    with pytest.raises(PermissionDenied):
        findings.finding_close(actor=handler, finding_id=f.pk)
    findings.finding_close(actor=superuser, finding_id=f.pk)


# --- notes within the cap -----------------------------------------------------------------------


def test_the_cap_is_a_setting_of_2000_by_default():
    from django.conf import settings

    assert settings.PORTAL_FINDING_NOTE_MAX_CHARS == 2000


@pytest.mark.django_db
def test_a_note_of_exactly_the_cap_is_kept_one_more_is_refused(world, handler):
    cap = 2000
    f = make_finding(school=world.school_a)
    before = written(f)
    with pytest.raises(ValidationError) as exc:
        findings.finding_assign(
            actor=handler, finding_id=f.pk, school_id=world.school_a.pk, note="查" * (cap + 1)
        )
    assert "交办说明最多 2000 个字，现为 2001 个字" in exc.value.message_dict["note"][0]
    assert written(f) == before
    findings.finding_assign(
        actor=handler, finding_id=f.pk, school_id=world.school_a.pk, note="查" * cap
    )
    assert f.steps.get().note == "查" * cap


@pytest.mark.django_db
def test_every_note_is_capped(world, handler, settings):
    settings.PORTAL_FINDING_NOTE_MAX_CHARS = 10  # the setting is read, not a constant
    f = make_finding(school=world.school_a)
    findings.finding_assign(actor=handler, finding_id=f.pk, school_id=world.school_a.pk)
    with pytest.raises(ValidationError, match="整改情况最多 10 个字"):
        findings.finding_answer(actor=world.principal_a, finding_id=f.pk, answer="改" * 11)
    with pytest.raises(ValidationError, match="理由最多 10 个字"):
        findings.finding_close_unanswered(actor=handler, finding_id=f.pk, reason="因" * 11)
    findings.finding_answer(actor=world.principal_a, finding_id=f.pk, answer="改" * 10)
    with pytest.raises(ValidationError, match="说明最多 10 个字"):
        findings.finding_return(actor=handler, finding_id=f.pk, note="退" * 11)
    with pytest.raises(ValidationError, match="说明最多 10 个字"):
        findings.finding_close(actor=handler, finding_id=f.pk, note="结" * 11)
    assert written(f)[:4] == ("answered", world.school_a.pk, None, 2)
    # surrounding blanks are not counted: what is kept is the stripped note
    findings.finding_close(actor=handler, finding_id=f.pk, note="  " + "结" * 10 + "\n")
    assert written(f)[0] == "closed"


# --- the dashboard, as production runs it -------------------------------------------------------


def _post(client, finding, data):
    return client.post(reverse("dashboard:finding", args=[finding.pk]), data, follow=True)


@pytest.mark.django_db(transaction=True)
def test_dashboard_refuses_institution_minus_one_with_a_message(world, handler, client_for):
    f = make_finding(rule="afterschool.provider.review_overdue")
    before = written(f)
    r = _post(client_for(handler), f, {"action": "assign", "institution": "-1", "note": "核查"})
    assert r.status_code == 200
    assert "交办培训机构不存在" in r.content.decode()
    assert written(f) == before


@pytest.mark.django_db(transaction=True)
def test_dashboard_refuses_sending_back_a_new_finding(world, handler, client_for):
    f = make_finding(school=world.school_a)
    r = _post(client_for(handler), f, {"action": "return", "note": "请继续整改"})
    assert r.status_code == 200 and "只有已反馈整改的检查发现才能退回" in r.content.decode()
    assert written(f) == ("new", None, None, 0, 0)


@pytest.mark.django_db(transaction=True)
def test_dashboard_refuses_another_lines_staff_and_shows_them_no_form(
    world, handler, cases_editor, client_for
):
    f = answered(world, handler)
    before = written(f)
    c = client_for(cases_editor)
    assert _post(c, f, {"action": "close", "note": "整改到位"}).status_code == 403
    assert written(f) == before
    page = c.get(reverse("dashboard:finding", args=[f.pk])).content.decode()
    assert 'data-testid="not-your-line"' in page and 'value="close"' not in page
    mine = client_for(handler).get(reverse("dashboard:finding", args=[f.pk])).content.decode()
    assert 'value="close"' in mine and 'value="return"' in mine


@pytest.mark.django_db(transaction=True)
def test_dashboard_note_at_the_cap_and_one_over(world, handler, client_for):
    f = answered(world, handler)
    c = client_for(handler)
    r = _post(c, f, {"action": "close", "note": "结" * 2001})
    assert "说明最多 2000 个字" in r.content.decode()
    assert written(f)[0] == "answered"
    r = _post(c, f, {"action": "close", "note": "结" * 2000})
    assert written(f)[0] == "closed"
    assert AuditLog.objects.get(action="portal.finding.closed").new["note"] == "结" * 2000


@pytest.mark.django_db(transaction=True)
def test_dashboard_offers_only_the_findings_district_schools(world, handler, client_for):
    SchoolFactory(name="外区学校")
    f = make_finding(school=world.school_a)
    page = client_for(handler).get(reverse("dashboard:finding", args=[f.pk])).content.decode()
    assert "乙小学" in page and "外区学校" not in page
