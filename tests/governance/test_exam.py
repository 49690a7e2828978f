"""Exams (考试安排, issue 18 part 5): each rule of the MoE 2021 notice at its boundary and with
its refusal at entry, the nightly finding of what slipped through (the admin, changed
rules), and the pages with the users they refuse."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from governance import exams
from governance.exam_models import Exam
from portal.compliance import run_checks
from portal.models import AuditLog, Finding, School, SchoolStaff
from tests.factories import SchoolFactory, SchoolStaffFactory
from tests.governance.pledge_helpers import term

pytestmark = pytest.mark.django_db
RULE = "governance.exam.rules"
K = Exam.Kind
DAY = dt.date(2026, 12, 20)
JAN = dt.date(2027, 1, 10)


@pytest.fixture
def terms(world):
    autumn = term(world.school_a.district)
    spring = term(
        world.school_a.district, dt.date(2027, 2, 20), dt.date(2027, 7, 5), "2027春季学期"
    )
    return autumn, spring


@pytest.fixture
def junior(world, terms):
    school = SchoolFactory(
        name="丙初中", stage=School.Stage.JUNIOR, district=world.school_a.district
    )
    return SchoolStaffFactory(school=school, role=SchoolStaff.Role.ACADEMIC, name="丙教导").user


def _make(user, grade=3, kind=K.FINAL, date=DAY, subject="数学", ranked=False):
    return exams.exam_create(
        actor=user, subject=subject, grade=grade, kind=kind, date=date, ranked=ranked
    )


def _refusal(user, **kw) -> dict:
    with pytest.raises(ValidationError) as exc:
        _make(user, **kw)
    return exc.value.message_dict


@pytest.mark.parametrize("grade", [1, 2])
@pytest.mark.parametrize("kind", [K.FINAL, K.UNIT])
def test_grades_one_and_two_hold_no_paper_exam(world, terms, grade, kind):
    errors = _refusal(world.principal_a, grade=grade, kind=kind)
    assert "2年级及以下不进行纸笔考试" in errors["kind"][0]
    assert not Exam.objects.exists()


def test_grade_three_holds_its_end_of_term_exam(world, terms):
    exam = _make(world.principal_a, grade=3)
    assert exam.school == world.school_a
    assert AuditLog.objects.filter(action="governance.exam.created").count() == 1


def test_one_end_of_term_exam_per_subject_and_term(world, terms):
    _make(world.principal_a)
    errors = _refusal(world.principal_a, date=JAN)
    assert errors["kind"] == ["每学期每门学科最多 1 次期末考试：2026秋季学期已安排 1 次。"]
    _make(world.principal_a, subject="语文", date=JAN)  # another subject
    _make(world.principal_a, date=dt.date(2027, 6, 30))  # another term
    assert Exam.objects.count() == 3


def test_the_limit_is_a_setting(world, terms, settings):
    settings.PORTAL_EXAM_FINALS_PER_TERM = 2
    _make(world.principal_a)
    _make(world.principal_a, date=JAN)
    assert "最多 2 次" in _refusal(world.principal_a, date=JAN)["kind"][0]


def test_a_primary_grade_holds_no_mid_term(world, terms):
    errors = _refusal(world.principal_a, grade=6, kind=K.MIDTERM)
    assert "期中考试只可在7年级及以上安排" in errors["kind"][0]


def test_lower_secondary_may_add_one_mid_term(world, junior):
    _make(junior, grade=7, kind=K.MIDTERM, date=dt.date(2026, 11, 10))
    errors = _refusal(junior, grade=7, kind=K.MIDTERM, date=dt.date(2026, 11, 20))
    assert "最多 1 次期中考试" in errors["kind"][0]
    _make(junior, grade=7, kind=K.FINAL)  # plus its end-of-term exam


def test_ranked_results_are_refused(world, terms):
    errors = _refusal(world.principal_a, ranked=True)
    assert errors["ranked"] == ["考试结果实行等级评价，不得按排名公布成绩。"]


def test_an_exam_outside_every_term_is_refused(world, terms):
    errors = _refusal(world.principal_a, date=dt.date(2027, 2, 1))  # winter vacation
    assert "不在本区任何学期内" in errors["kind"][0]


def test_a_grade_the_school_does_not_teach_is_refused(world, terms):
    assert _refusal(world.principal_a, grade=8)["grade"] == ["本校（小学）没有8年级。"]


@pytest.mark.parametrize("who", ["teacher_a", "parent_a", "bureau"])
def test_only_a_schools_managers_enter_exams(world, terms, who):
    with pytest.raises(PermissionDenied):
        _make(getattr(world, who))


def test_another_schools_manager_cannot_delete(world, terms):
    exam = _make(world.principal_a)
    with pytest.raises(PermissionDenied):
        exams.exam_delete(actor=world.principal_b, exam_id=exam.pk)
    exams.exam_delete(actor=world.principal_a, exam_id=exam.pk)
    assert not Exam.objects.exists()


# --- the nightly check --------------------------------------------------------------------


def _open():
    return Finding.objects.filter(rule=RULE, resolved_at__isnull=True)


def test_what_the_admin_let_through_is_a_finding(world, terms):
    ok = Exam.objects.create(school=world.school_a, subject="数学", grade=3, kind=K.FINAL, date=DAY)
    second = Exam.objects.create(
        school=world.school_a, subject="数学", grade=3, kind=K.FINAL, date=JAN
    )
    grade1 = Exam.objects.create(
        school=world.school_a, subject="语文", grade=1, kind=K.UNIT, date=DAY
    )
    ranked = Exam.objects.create(
        school=world.school_a, subject="英语", grade=4, kind=K.FINAL, date=DAY, ranked=True
    )
    run_checks(for_date=DAY, rules=[RULE])
    flagged = set(_open().values_list("object_id", flat=True))
    assert flagged == {str(second.pk), str(grade1.pk), str(ranked.pk)}
    assert str(ok.pk) not in flagged
    assert _open().filter(school=world.school_a).count() == 3


def test_a_changed_rule_opens_and_closes_findings(world, terms, settings):
    _make(world.principal_a)
    _make(world.principal_a, subject="数学", grade=4)
    run_checks(for_date=DAY, rules=[RULE])
    assert not _open().exists()
    settings.PORTAL_EXAM_NO_PAPER_MAX_GRADE = 3  # stricter: grade 3 now may not
    run_checks(for_date=DAY, rules=[RULE])
    assert _open().count() == 1
    settings.PORTAL_EXAM_NO_PAPER_MAX_GRADE = 2
    run_checks(for_date=DAY, rules=[RULE])
    assert not _open().exists()


# --- pages ----------------------------------------------------------------------------------


def test_a_refused_entry_names_the_rule_and_keeps_what_was_typed(world, terms, client_for):
    client = client_for(world.principal_a)
    resp = client.post(
        reverse("exam:calendar"),
        {"subject": "科学", "grade": 3, "kind": K.MIDTERM, "date": "2026-11-10"},
    )
    html = resp.content.decode()
    assert resp.status_code == 400 and "期中考试只可在7年级及以上安排" in html
    assert 'value="科学"' in html
    ok = client.post(
        reverse("exam:calendar"),
        {"subject": "科学", "grade": 3, "kind": K.FINAL, "date": "2026-12-20"},
    )
    assert ok.status_code == 302 and Exam.objects.count() == 1


@pytest.mark.parametrize("who,status", [("teacher_a", 403), ("parent_a", 403)])
def test_the_calendar_refuses_teachers_and_parents(world, client_for, who, status):
    assert client_for(getattr(world, who)).get(reverse("exam:calendar")).status_code == status


def test_the_bureau_reads_every_calendar_but_enters_none(world, terms, client_for):
    _make(world.principal_a)
    client = client_for(world.bureau)
    page = client.get(reverse("exam:calendar"))
    assert page.status_code == 200 and "甲小学" in page.content.decode()
    assert client.post(reverse("exam:calendar"), {"subject": "数学"}).status_code == 403


def test_another_schools_exam_is_a_404_to_delete(world, terms, client_for):
    exam = _make(world.principal_a)
    resp = client_for(world.principal_b).post(reverse("exam:delete", args=[exam.pk]))
    assert resp.status_code == 404 and Exam.objects.filter(pk=exam.pk).exists()
    page = client_for(world.principal_b).get(reverse("exam:calendar"))
    assert "数学" not in page.content.decode().split('data-testid="exams"')[1]
