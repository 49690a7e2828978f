"""A school's manager enters a volunteer's 无犯罪记录证明 date on a phone: it is older than its
validity, so the record reads 审查失效, and the course page flags the scheduled lesson the
volunteer teaches (and names the certificate and its date); the nightly check finds it."""

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from afterschool import people
from afterschool.models import Lesson
from portal.compliance import run_checks
from portal.models import Finding
from tests.afterschool.helpers import offering
from tests.e2e.pages import html
from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_volunteer_whose_certificate_lapsed_is_flagged_on_the_course_page(
    world, live_server, page
):
    today = timezone.localdate()
    course = offering(world.school_a, name="国画社")
    on = today - dt.timedelta(days=30)
    volunteer = people.person_create(
        user=world.principal_a, name="陈老师", kind="artist", phone="13900003333",
        no_criminal_record_on=on, health_cert_on=on, trained_on=on,
    )  # fmt: skip
    people.offering_person_add(
        user=world.principal_a, offering_id=course.pk, person_id=volunteer.pk
    )
    day = today + dt.timedelta(days=7)
    Lesson.objects.create(offering=course, planned_date=day, date=day, start=course.start,
                          end=course.end)  # fmt: skip

    page.goto(live_server.url + "/login/")
    page.get_by_label("用户名").fill("pa")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()

    # the course page before: no flag
    page.goto(live_server.url + f"/afterschool/offerings/{course.pk}/")
    assert "陈老师" in page.get_by_test_id("course-people").inner_text()
    assert page.get_by_test_id("lesson-flag").count() == 0

    # the certificate on file turns out to be 13 months old
    lapsed_on = today - relativedelta(months=13)
    page.goto(live_server.url + f"/people/{volunteer.pk}/")
    assert "139****3333" in html(page) and "13900003333" not in html(page)
    page.get_by_label("无犯罪记录证明开具日期").fill(lapsed_on.isoformat())
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("vetting-state").inner_text() == "审查失效"
    assert "无犯罪记录证明" in page.get_by_test_id("vetting-reasons").inner_text()

    page.goto(live_server.url + f"/afterschool/offerings/{course.pk}/")
    flag = page.get_by_test_id("lesson-flag").first.inner_text()
    assert "陈老师的无犯罪记录证明" in flag and str(lapsed_on) in flag
    assert "1 个已排课次" in page.get_by_test_id("people-flag").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    run_checks(for_date=today, rules=["afterschool.people.lesson_flagged"])
    finding = Finding.objects.get(rule="afterschool.people.lesson_flagged")
    assert finding.resolved_at is None and "国画社" in finding.message
