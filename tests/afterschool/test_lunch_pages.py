"""The pages of lunch-break care: who sees what, and who is refused (403/404)."""

import io

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from openpyxl import load_workbook

from afterschool import lunch
from afterschool.models import Lesson
from tests.afterschool.lunch_helpers import families, lunch_plan, nap_room, open_month
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(world):
    m = open_month(world, seats=2, beds=1)
    (p1, c1), (p2, c2) = families(world.class_a, 2, prefix="page")
    lunch.enrol(user=p1, child_id=c1.pk, month_id=m.pk, arrangement="bed", days=[0, 1])
    lunch.enrol(user=p2, child_id=c2.pk, month_id=m.pk, arrangement="bed", days=[0, 1])
    return m


def _bureau_afterschool():
    user = UserFactory(username="bureau_as_page", is_staff=True)
    user.groups.add(Group.objects.get(name="课后服务"))
    return user


def test_school_pages_show_seats_beds_and_the_waiting_list(world, month, client_for):
    c = client_for(world.principal_a)
    index = c.get(reverse("lunch:index")).content.decode()
    assert month.offering.name in index and "1/1" in index
    page = c.get(reverse("lunch:month", args=[month.pk])).content.decode()
    assert "候补名单" in page and "平躺睡（床位）" in page and "周一、周二" in page


def test_another_schools_month_is_a_404_and_a_parent_is_refused(world, month, client_for):
    assert client_for(world.principal_b).get(
        reverse("lunch:month", args=[month.pk])).status_code == 404  # fmt: skip
    assert client_for(world.parent_a).get(reverse("lunch:index")).status_code == 403
    assert client_for(world.parent_a).get(
        reverse("lunch:month", args=[month.pk])).status_code == 403  # fmt: skip


def test_open_page_only_for_the_principal_or_academic_office(world, client_for):
    lunch_plan(world.school_a)
    nap_room(world.school_a)
    assert client_for(world.principal_a).get(reverse("lunch:open")).status_code == 200
    assert client_for(world.teacher_a).get(reverse("lunch:open")).status_code == 403


def test_parent_page_offers_the_month_and_says_why_a_child_waits(world, month, client_for):
    page = client_for(world.parent_a).get(reverse("lunch:parent")).content.decode()
    assert month.offering.name in page and "午休方式" in page
    waiting_parent = month.offering.enrolments.get(status="waiting").child.parents.get().user
    page = client_for(waiting_parent).get(reverse("lunch:parent")).content.decode()
    assert "床位已满（共 1 张）" in page
    assert client_for(world.principal_a).get(reverse("lunch:parent")).status_code == 403


def test_roll_page_lists_the_children_expected_that_day(world, month, client_for):
    monday = Lesson.objects.filter(offering=month.offering, date__week_day=2).first()
    wednesday = Lesson.objects.filter(offering=month.offering, date__week_day=4).first()
    c = client_for(world.principal_a)
    enrolled = month.offering.enrolments.get(status="enrolled").child.name
    if monday:
        assert enrolled in c.get(reverse("lunch:roll", args=[monday.pk])).content.decode()
    if wednesday:
        page = c.get(reverse("lunch:roll", args=[wednesday.pk])).content.decode()
        assert "今天没有应到的学生" in page
    any_break = monday or wednesday
    assert client_for(world.teacher_a).get(
        reverse("lunch:roll", args=[any_break.pk])).status_code == 403  # fmt: skip
    assert client_for(world.principal_b).get(
        reverse("lunch:roll", args=[any_break.pk])).status_code == 404  # fmt: skip


def test_report_page_and_excel_for_school_and_bureau(world, month, client_for):
    ym = f"{month.month:%Y-%m}"
    page = client_for(world.principal_a).get(reverse("lunch:report"), {"month": ym})
    assert page.status_code == 200 and "甲小学" in page.content.decode()
    response = client_for(_bureau_afterschool()).get(reverse("lunch:report_xlsx"), {"month": ym})
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:5] == ("学校", "名额", "床位", "每月收费（元）", "平躺睡")
    assert rows[1][0] == "甲小学" and rows[1][4] == 1 and rows[1][7] == 1
    for user in (world.teacher_a, world.parent_a, world.bureau):
        assert client_for(user).get(reverse("lunch:report")).status_code == 403
