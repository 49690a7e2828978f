"""The org part's nightly checks and dashboard panel (机构端 queues)."""

import datetime as dt

import pytest
from django.utils import timezone

from institutions import account_checks, account_dashboard, accounts, services
from institutions.account_models import AccountRequest
from institutions.models import Course
from portal.dashboard import Filters
from tests.institutions.org_helpers import (  # noqa: F401
    COURSE_DATA,
    COURSE_SLOTS,
    bureau_staff,
    org,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("days, found", [(7, False), (8, True)])
def test_a_filing_waiting_past_the_days_is_a_finding(org, settings, days, found):  # noqa: F811
    settings.PORTAL_ORG_QUEUE_DAYS = 7
    _staff, _inst, admin = org
    course = services.course_file(actor=admin, slots=COURSE_SLOTS, **COURSE_DATA)
    today = timezone.localdate()
    # filed at noon ``days`` days ago
    at = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days), dt.time(12)))
    Course.objects.filter(pk=course.pk).update(filed_at=at)
    rows = list(account_checks.filing_waiting(today))
    assert bool(rows) is found
    if found:
        assert "超过 7 天仍未审核" in rows[0].message


def test_a_request_waiting_is_a_finding_until_decided(org, settings):  # noqa: F811
    settings.PORTAL_ORG_QUEUE_DAYS = 7
    staff, inst, admin = org
    admin.institution_staff.active = False
    admin.institution_staff.save(update_fields=["active"])
    row = accounts.account_request_file(
        institution_id=inst.pk, contact_name="王老师", contact_phone="13812345678"
    )
    later = timezone.localdate() + dt.timedelta(days=9)
    assert len(list(account_checks.request_waiting(later))) == 1
    accounts.account_request_decide(actor=staff, request_id=row.pk, approve=False, reason="核实")
    assert list(account_checks.request_waiting(later)) == []
    assert AccountRequest.objects.get().status == "rejected"


def test_the_panel_counts_in_two_queries(world, org, django_assert_num_queries):  # noqa: F811
    staff, inst, admin = org
    services.course_file(actor=admin, slots=COURSE_SLOTS, **COURSE_DATA)
    f = Filters(district=world.school_a.district, month=timezone.localdate().strftime("%Y-%m"))
    with django_assert_num_queries(2):
        p = account_dashboard.org_queues(f)
    values = {b.label: b.value for b in p.series[0].bars}
    assert values["待备案的课程"] == 1 and values["待处理的账号申请"] == 0
    assert dict(p.figures)["已开通机构账号"] == "1"
