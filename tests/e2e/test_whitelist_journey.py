import datetime as dt
from decimal import Decimal

import pytest

from institutions.services import course_save
from portal.models import SchoolPeriod
from tests.institutions.helpers import make_institution, training_staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_parent_on_a_phone_finds_an_institution_by_part_of_its_name(world, live_server, page):
    staff = training_staff()
    district = world.school_a.district
    SchoolPeriod.objects.create(
        district=district,
        kind="term",
        name="秋季学期",
        start=dt.date(2026, 9, 1),
        end=dt.date(2027, 1, 22),
    )
    good = make_institution(staff, district, name="启航英语培训学校", subjects=["外语"])
    course_save(
        actor=staff,
        institution=good,
        name="初一英语阅读",
        subject="外语",
        mode="offline",
        lesson_minutes=45,
        class_size=20,
        price_per_lesson=Decimal("25.00"),
        term_start=dt.date(2026, 11, 2),
        term_end=dt.date(2026, 12, 25),
        slots=[{"weekday": 2, "start": dt.time(18, 30), "end": dt.time(19, 15)}],
    )
    make_institution(staff, district, name="启智数学培训中心", white=False)
    make_institution(
        staff, district, name="过期英语培训学校", licence_expires=dt.date(2025, 12, 31)
    )

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="校外培训机构查询").click()
    page.get_by_label("机构名称").fill("英语培训")
    page.get_by_role("button", name="查询").click()

    results = page.get_by_test_id("results")
    assert "启智数学" not in results.inner_text()
    expired = results.locator("li", has_text="过期英语培训学校")
    assert expired.locator(".badge").inner_text() == "黑名单"
    results.get_by_role("link", name="启航英语培训学校").click()

    assert "白名单" in page.get_by_test_id("colour").inner_text()
    assert "银行托管" in page.get_by_test_id("supervision").inner_text()
    courses = page.get_by_test_id("courses").inner_text()
    assert "初一英语阅读" in courses and "25.00" in courses and "周三 18:30-19:15" in courses
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
