"""A head teacher on a phone logs a home visit, and the school's overdue finding goes away
at the next run of the nightly check (run in-process before and after)."""

import datetime as dt

import pytest

from portal.compliance import run_checks
from portal.models import Finding
from tests.factories import PASSWORD
from tests.governance.care_helpers import head_of, open_record, term_around_today

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
RULE = "governance.care.visits_overdue"


def test_a_head_teacher_logs_a_home_visit_and_the_overdue_finding_resolves(
    world, live_server, page
):
    term_around_today(world.school_a.district)
    head_of(world.class_a, "bzr_a", "一班班主任")
    # the record opened 40 days ago: its first home visit (due within 30 days) is overdue
    from django.utils import timezone

    today = timezone.localdate()
    record = open_record(world, opened_on=today - dt.timedelta(days=40))
    run_checks(for_date=today, rules=[RULE])
    finding = Finding.objects.get(rule=RULE, resolved_at__isnull=True)
    assert finding.school == world.school_a and "甲同学" not in finding.message

    page.goto(live_server.url + "/login/")
    page.get_by_label("用户名").fill("bzr_a")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    page.goto(live_server.url + "/care/")
    row = page.get_by_test_id(f"care-record-{record.pk}")
    assert "逾期" in row.inner_text()
    row.get_by_role("link", name="登记家访").click()

    # a refused form first (no notes): it says which field, and keeps what was chosen
    page.get_by_label("家访").check()
    page.get_by_role("button", name="登记").click()
    assert "情况记录：请填写" in page.get_by_role("alert").first.inner_text()
    page.get_by_label("情况记录").fill("到家中了解学习和生活情况，祖父母照看良好")
    page.get_by_role("button", name="登记").click()
    assert "1/1" in page.get_by_test_id("standing").inner_text()
    assert "到家中了解学习和生活情况" in page.get_by_test_id("care-contacts").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    run_checks(for_date=today, rules=[RULE])
    finding.refresh_from_db()
    assert finding.resolved_at is not None
