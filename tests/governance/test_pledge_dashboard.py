"""The dashboard panels of commitment letters, exams and letters to parents (issue 18 parts
2, 5, 6): their figures, in a fixed number of queries whatever the number of rows."""

import datetime as dt

import pytest

from governance import exams, letters, pledges
from governance.exam_dashboard import exams as exam_panel
from governance.letter_dashboard import letters as letter_panel
from governance.pledge_dashboard import pledges as pledge_panel
from governance.pledge_models import PledgeLetter
from portal.dashboard import Filters
from portal.models import Notice
from tests.factories import SchoolStaffFactory
from tests.governance.pledge_helpers import campaign_for, term

pytestmark = pytest.mark.django_db


def test_the_pledge_panel_counts_signatures_in_one_query(world, django_assert_num_queries):
    for _ in range(10):
        SchoolStaffFactory(school=world.school_a)
    c = campaign_for(world)
    letter = PledgeLetter.objects.get(campaign=c, staff__user=world.teacher_a)
    pledges.letter_sign(actor=world.teacher_a, letter_id=letter.pk, agreed=True)
    f = Filters(district=world.school_a.district, month="2026-09")
    with django_assert_num_queries(1):
        p = pledge_panel(f)
    assert [b.value for b in p.series[0].bars] == [1]
    assert [b.value for b in p.series[1].bars] == [11]


def test_the_exam_panel_counts_the_months_exams_by_kind(world, django_assert_num_queries):
    term(world.school_a.district)
    exams.exam_create(
        actor=world.principal_a, subject="数学", grade=3, kind="final", date=dt.date(2026, 12, 20)
    )
    f = Filters(district=world.school_a.district, month="2026-12")
    with django_assert_num_queries(1):
        p = exam_panel(f)
    assert {b.label: b.value for b in p.series[0].bars}["期末"] == 1


def test_the_letter_panel_shows_read_rates_in_two_queries(
    world, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        letter = letters.letter_send(
            actor=world.bureau,
            title="安全",
            body="注意安全",
            district_id=world.school_a.district_id,
        )
    Notice.objects.filter(key=letter.notice_key).update(read_at=letter.sent_at)
    f = Filters(district=world.school_a.district, month=letter.sent_at.strftime("%Y-%m"))
    with django_assert_num_queries(2):
        p = letter_panel(f)
    assert [b.value for b in p.series[0].bars] == [100.0]
