"""The nightly check and the dashboard panel of refunds."""

import datetime as dt

import pytest
from django.utils import timezone

from institutions import refunds
from institutions.refund_models import RefundRequest
from portal.compliance import registry
from portal.dashboard import Filters
from portal.dashboard import registry as panels
from tests.institutions.refund_helpers import org_staff, paid_purchase

pytestmark = pytest.mark.django_db
RULE = "institutions.refund.bureau_overdue"


def _found(for_date):
    return list(registry()[RULE].func(for_date))


def test_a_request_waiting_on_the_bureau_past_the_answer_days_is_a_finding(settings):
    purchase = paid_purchase(consumed=1)
    request = refunds.request_ask(actor=purchase.parent.user, purchase_id=purchase.pk, reason="退")
    refunds.request_answer(actor=org_staff(purchase.institution), request_id=request.pk,
                           agree=False, reason="不退")  # fmt: skip
    reached = timezone.localdate()
    days = settings.PORTAL_REFUND_ANSWER_DAYS
    assert _found(reached + dt.timedelta(days=days)) == []  # the last day it may wait
    found = _found(reached + dt.timedelta(days=days + 1))
    assert [f.subject for f in found] == [request]
    assert found[0].institution_id == purchase.institution_id
    assert "张" not in found[0].message  # by number only
    RefundRequest.objects.filter(pk=request.pk).update(status=RefundRequest.Status.BUREAU_REJECTED)
    assert _found(reached + dt.timedelta(days=days + 1)) == []


def test_the_panel_counts_the_districts_requests(django_assert_max_num_queries):
    purchase = paid_purchase(consumed=1)
    refunds.request_ask(actor=purchase.parent.user, purchase_id=purchase.pk, reason="退")
    spec = next(p for p in panels() if p.key == "institutions.refunds_status")
    f = Filters(
        district=purchase.institution.district, month=timezone.localdate().strftime("%Y-%m")
    )
    with django_assert_max_num_queries(2):
        panel = spec.func(f)
    assert dict((b.label, b.value) for b in panel.series[0].bars)["待机构答复"] == 1
