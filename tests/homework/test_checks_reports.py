import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from homework.models import ParentReport
from homework.reports import monthly_report
from homework.services import homework_publish
from portal.compliance import run_checks
from portal.models import Finding
from tests.factories import ChildFactory, ParentFactory, SchoolClassFactory
from tests.homework.conftest import DAY, item_data

pytestmark = pytest.mark.django_db

RULES = [
    "homework.class.over_limit_published",
    "homework.class.over_limit_reported",
    "homework.class.not_published",
    "homework.class.written_in_grades_1_2",
]


def _open(rule):
    return {f.object_id for f in Finding.objects.filter(rule=rule, resolved_at=None)}


def test_a_class_over_its_limit_on_published_minutes(term, grade4):
    from homework.models import HomeworkItem, HomeworkPolicy

    homework_publish(
        user=term.teacher_a, school_class_id=grade4.pk, date=DAY, **item_data(minutes=60)
    )
    # the bureau lowers the limit afterwards: yesterday's 60 minutes are now over it
    policy = HomeworkPolicy.current()
    policy.limit_grades_3_6 = 50
    policy.save()
    run_checks(for_date=DAY, rules=RULES[:1])
    assert _open(RULES[0]) == {str(grade4.pk)}
    HomeworkItem.objects.update(minutes=50)
    run_checks(for_date=DAY, rules=RULES[:1])
    assert _open(RULES[0]) == set()


def _reports(school_class, minutes_list):
    for i, minutes in enumerate(minutes_list):
        parent = ParentFactory(user__username=f"p{school_class.pk}-{i}")
        child = ChildFactory(school_class=school_class)
        child.parents.add(parent)
        ParentReport.objects.create(
            child=child, school_class=school_class, date=DAY, minutes=minutes, reported_by=parent
        )


def test_a_class_over_its_limit_on_the_reported_average(term, grade4):
    _reports(grade4, [70, 65, 60])  # average 65 > 60, three reports
    quiet = SchoolClassFactory(school=term.school_a, grade=4, number=2)
    _reports(quiet, [90, 90])  # only two reports: not enough to judge
    run_checks(for_date=DAY, rules=[RULES[1]])
    assert _open(RULES[1]) == {str(grade4.pk)}


def test_classes_with_no_publication_on_a_school_day(term, grade4):
    homework_publish(user=term.teacher_a, school_class_id=term.class_a.pk, date=DAY, **item_data())
    grade1 = SchoolClassFactory(school=term.school_a, grade=1, number=1)
    run_checks(for_date=DAY, rules=[RULES[2]])
    opened = _open(RULES[2])
    assert str(grade4.pk) in opened  # grade 4, nothing published on a Monday in term
    assert str(term.class_a.pk) not in opened  # published
    assert str(grade1.pk) not in opened  # grades 1-2 have nothing written to publish
    assert str(term.class_b.pk) in opened  # the other school of the same district


@pytest.mark.parametrize("day", [dt.date(2026, 11, 22), dt.date(2026, 10, 1)])
def test_no_publication_is_expected_on_a_sunday_or_a_holiday(term, grade4, day):
    run_checks(for_date=day, rules=[RULES[2]])
    assert _open(RULES[2]) == set()


def test_an_unknown_calendar_day_finds_nothing_and_fails_nothing(term, grade4):
    run = run_checks(for_date=dt.date(2027, 3, 1), rules=[RULES[2]])
    assert run.status == "succeeded" and _open(RULES[2]) == set()


def test_a_grade_1_class_with_written_homework(term):
    from homework.models import HomeworkItem
    from portal.models import SchoolStaff

    grade1 = SchoolClassFactory(school=term.school_a, grade=1, number=3)
    # written homework that got in before the rule (imported, or the limit was changed)
    HomeworkItem.objects.create(
        school_class=grade1, date=DAY, subject="语文", content="抄写", minutes=10,
        published_by=SchoolStaff.objects.get(user=term.teacher_a),
    )  # fmt: skip
    run_checks(for_date=DAY, rules=[RULES[3]])
    assert _open(RULES[3]) == {str(grade1.pk)}
    assert "一、二年级不布置家庭书面作业" in Finding.objects.get(rule=RULES[3]).message


def test_the_monthly_report_counts_class_days(term, grade4):
    from homework.models import HomeworkItem
    from portal.models import SchoolStaff

    staff = SchoolStaff.objects.get(user=term.teacher_a)
    for day in (dt.date(2026, 11, 2), dt.date(2026, 11, 3)):
        HomeworkItem.objects.create(
            school_class=grade4,
            date=day,
            subject="数学",
            content="x",
            minutes=70,
            published_by=staff,
        )
    days, rows = monthly_report(
        district=term.school_a.district, month="2026-11", school=term.school_a
    )
    assert len(days) == 21  # November 2026: 21 weekdays, no holiday
    row = next(r for r in rows if r.grade == 4)
    assert (row.classes, row.class_days, row.over_published) == (1, 21, 2)
    assert row.not_published == 19
    grade3 = next(r for r in rows if r.grade == 3)  # class_a published nothing
    assert grade3.not_published == 21


def test_the_report_page_and_excel_for_the_bureau(term, grade4, client_for):
    from django.contrib.auth.models import Group

    term.bureau.groups.add(Group.objects.get(name="基础教育/作业"))
    c = client_for(term.bureau)
    page = c.get(reverse("homework:monthly"), {"month": "2026-11"})
    html = page.content.decode()
    assert page.status_code == 200 and "本月上学日 21 天" in html
    assert "甲小学" in html and "乙小学" in html
    xlsx = c.get(reverse("homework:monthly_xlsx"), {"month": "2026-11"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["A2"].value == "学校"
    assert {row[0].value for row in sheet.iter_rows(min_row=3)} == {"甲小学", "乙小学"}


def test_the_report_is_scoped_and_refused(term, grade4, client_for):
    from tests.factories import UserFactory

    mine = client_for(term.principal_a).get(reverse("homework:monthly"), {"month": "2026-11"})
    assert "甲小学" in mine.content.decode() and "乙小学" not in mine.content.decode()
    assert client_for(term.parent_a).get(reverse("homework:monthly")).status_code == 403
    other_staff = UserFactory(username="cases_only", is_staff=True)
    assert client_for(other_staff).get(reverse("homework:monthly")).status_code == 403
    assert client_for(None).get(reverse("homework:monthly")).status_code == 302


def test_a_month_without_calendar_says_so(term, client_for):
    html = (
        client_for(term.principal_a)
        .get(reverse("homework:monthly"), {"month": "2027-03"})
        .content.decode()
    )
    assert "日历中没有 2027 年" in html
