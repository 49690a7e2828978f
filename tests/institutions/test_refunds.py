"""Refund requests (退费申请): the parent asks, the institution answers by its deadline, the
nightly sweep sends the unanswered to the bureau, the bureau decides; each rule at its
boundary and with its refusal; the money through the escrow's ledger only."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from institutions import escrow, refunds
from institutions.escrow_models import Purchase
from institutions.refund_models import RefundRequest
from portal.models import AuditLog, Notice
from tests.factories import ParentFactory
from tests.institutions.conftest import escrow_institution
from tests.institutions.helpers import training_staff
from tests.institutions.refund_helpers import org_staff, paid_purchase

pytestmark = pytest.mark.django_db
S = RefundRequest.Status
DAY = dt.date(2026, 3, 10)


@pytest.fixture(autouse=True)
def _ledger_sound(ledger_checked):
    yield


@pytest.fixture
def bought():
    """10 lessons for 1000.00, 4 consumed and confirmed (400.00 released)."""
    return paid_purchase(consumed=4, confirmed=4)


def ask(purchase, reason="孩子转学", today=DAY):
    return refunds.request_ask(
        actor=purchase.parent.user, purchase_id=purchase.pk, reason=reason, today=today
    )


# --- asking ---------------------------------------------------------------------------------


def test_a_parent_asks_and_the_institution_has_seven_calendar_days(
    bought, django_capture_on_commit_callbacks
):
    admin = org_staff(bought.institution, "admin")
    finance = org_staff(bought.institution, "finance")
    desk = org_staff(bought.institution, "desk")
    with django_capture_on_commit_callbacks(execute=True):
        request = ask(bought)
    assert request.status == S.PENDING
    assert request.deadline == DAY + dt.timedelta(days=7)
    assert AuditLog.objects.filter(action="institutions.refund.asked").count() == 1
    told = set(
        Notice.objects.filter(key=f"refund:{request.pk}:asked").values_list("user", flat=True)
    )
    assert told == {admin.pk, finance.pk}  # the desk does not answer refunds
    assert desk.pk not in told


def test_the_answer_days_are_a_setting(bought, settings):
    settings.PORTAL_REFUND_ANSWER_DAYS = 3
    assert ask(bought).deadline == DAY + dt.timedelta(days=3)


def test_another_parent_may_not_ask(bought):
    stranger = ParentFactory().user
    with pytest.raises(PermissionDenied):
        refunds.request_ask(actor=stranger, purchase_id=bought.pk, reason="x", today=DAY)
    with pytest.raises(PermissionDenied):  # nor institution staff, nor the bureau
        refunds.request_ask(actor=training_staff(), purchase_id=bought.pk, reason="x")


def test_a_reason_is_required(bought):
    with pytest.raises(ValidationError) as exc:
        ask(bought, reason="  ")
    assert "退费原因" in exc.value.message_dict["reason"][0]


def test_a_reason_at_the_cap_is_accepted(bought, settings):
    settings.PORTAL_REFUND_REASON_MAX_CHARS = 5
    assert ask(bought, reason="五个字的").status == S.PENDING


def test_a_reason_one_over_the_cap_is_refused(bought, settings):
    settings.PORTAL_REFUND_REASON_MAX_CHARS = 5
    with pytest.raises(ValidationError) as exc:
        ask(bought, reason="六个字的原因")
    assert "最多 5 个字" in exc.value.message_dict["reason"][0]


def test_one_open_request_per_purchase(bought):
    ask(bought)
    with pytest.raises(ValidationError) as exc:
        ask(bought)
    assert "正在办理" in exc.value.message_dict["reason"][0]
    assert RefundRequest.objects.count() == 1


def test_the_database_keeps_one_open_request_per_purchase(bought):
    first = ask(bought)
    with pytest.raises(IntegrityError), transaction.atomic():
        RefundRequest.objects.create(
            purchase=bought, reason="again", asked_by=first.asked_by, deadline=DAY
        )


def test_after_a_rejection_the_parent_may_ask_again(bought):
    request = ask(bought)
    org = org_staff(bought.institution)
    refunds.request_answer(actor=org, request_id=request.pk, agree=False, reason="合同约定不退",
                           today=DAY)  # fmt: skip
    refunds.request_decide(actor=training_staff(), request_id=request.pk, refund=False,
                           reason="合同有效", today=DAY)  # fmt: skip
    assert ask(bought).status == S.PENDING


def test_nothing_to_refund_once_every_lesson_is_consumed():
    purchase = paid_purchase(consumed=10, confirmed=0)
    with pytest.raises(ValidationError) as exc:
        ask(purchase)
    assert "全部消课" in exc.value.message_dict["reason"][0]


def test_the_last_unconsumed_lesson_may_still_be_asked_for():
    purchase = paid_purchase(consumed=9)
    assert ask(purchase).status == S.PENDING


def test_a_refunded_purchase_may_not_be_asked_for(bought):
    escrow.refund_unconsumed(actor=training_staff(), purchase_id=bought.pk, reason="已退")
    with pytest.raises(ValidationError) as exc:
        ask(bought)
    assert "不能申请退费" in exc.value.message_dict["reason"][0]


# --- the institution answers ----------------------------------------------------------------


def test_agreeing_pays_the_unconsumed_part_at_once(bought, django_capture_on_commit_callbacks):
    request = ask(bought)
    finance = org_staff(bought.institution, "finance")
    with django_capture_on_commit_callbacks(execute=True):
        done = refunds.request_answer(actor=finance, request_id=request.pk, agree=True, today=DAY)
    assert done.status == S.REFUNDED
    assert done.refund_amount == Decimal("600.00")  # 6 of 10 lessons not consumed
    assert done.transaction.kind == "refund"
    sums = escrow.purchase_sums(bought)
    assert (sums.paid, sums.released, sums.refunded, sums.held) == (
        Decimal("1000.00"), Decimal("400.00"), Decimal("600.00"), Decimal("0.00"),
    )  # fmt: skip
    bought.refresh_from_db()
    assert bought.status == Purchase.Status.REFUNDED
    assert Notice.objects.filter(
        user=bought.parent.user, key=f"refund:{request.pk}:agreed"
    ).exists()
    assert AuditLog.objects.filter(action="institutions.refund.agreed").count() == 1


def test_agreeing_twice_pays_once(bought):
    request = ask(bought)
    admin = org_staff(bought.institution)
    refunds.request_answer(actor=admin, request_id=request.pk, agree=True, today=DAY)
    again = refunds.request_answer(actor=admin, request_id=request.pk, agree=True, today=DAY)
    assert again.status == S.REFUNDED
    assert escrow.purchase_sums(bought).refunded == Decimal("600.00")
    assert AuditLog.objects.filter(action="institutions.refund.agreed").count() == 1


def test_the_refund_is_the_unconsumed_value_when_the_institution_agrees(bought):
    request = ask(bought)
    admin = org_staff(bought.institution)
    # consumed after the request, before the answer: the answer's moment counts
    escrow.lessons_consume(actor=admin, purchase_id=bought.pk, total=7)
    done = refunds.request_answer(actor=admin, request_id=request.pk, agree=True, today=DAY)
    assert done.refund_amount == Decimal("300.00")


def test_a_refund_with_uneven_lessons_is_right_to_the_fen():
    purchase = paid_purchase(lessons=3, amount="100.00", consumed=1, confirmed=1)
    request = ask(purchase)
    done = refunds.request_answer(
        actor=org_staff(purchase.institution), request_id=request.pk, agree=True, today=DAY
    )
    assert done.refund_amount == Decimal("66.67")  # 100 - 33.33
    sums = escrow.purchase_sums(purchase)
    assert sums.released + sums.refunded == Decimal("100.00")


def test_refusing_needs_a_reason_and_goes_to_the_bureau(bought, django_capture_on_commit_callbacks):
    request = ask(bought)
    admin = org_staff(bought.institution)
    bureau = training_staff()
    with pytest.raises(ValidationError) as exc:
        refunds.request_answer(actor=admin, request_id=request.pk, agree=False, today=DAY)
    assert "拒绝理由" in exc.value.message_dict["reason"][0]
    with django_capture_on_commit_callbacks(execute=True):
        done = refunds.request_answer(actor=admin, request_id=request.pk, agree=False,
                                      reason="已开课不退", today=DAY)  # fmt: skip
    assert done.status == S.REFUSED
    assert escrow.purchase_sums(bought).refunded == 0
    assert Notice.objects.filter(user=bureau, key=f"refund:{request.pk}:refused").exists()
    assert Notice.objects.filter(
        user=bought.parent.user, key=f"refund:{request.pk}:refused"
    ).exists()


@pytest.mark.parametrize("role", ["desk"])
def test_the_desk_may_not_answer(bought, role):
    request = ask(bought)
    with pytest.raises(PermissionDenied):
        refunds.request_answer(actor=org_staff(bought.institution, role), request_id=request.pk,
                               agree=True, today=DAY)  # fmt: skip


def test_another_institution_may_not_answer(bought):
    request = ask(bought)
    other = org_staff(escrow_institution(name="别家机构"))
    with pytest.raises(PermissionDenied):
        refunds.request_answer(actor=other, request_id=request.pk, agree=True, today=DAY)
    assert escrow.purchase_sums(bought).refunded == 0


def test_the_institution_may_answer_on_the_deadline_day(bought):
    request = ask(bought)
    done = refunds.request_answer(actor=org_staff(bought.institution), request_id=request.pk,
                                  agree=True, today=request.deadline)  # fmt: skip
    assert done.status == S.REFUNDED


def test_the_institution_may_not_answer_the_day_after_the_deadline(bought):
    request = ask(bought)
    with pytest.raises(ValidationError) as exc:
        late = request.deadline + dt.timedelta(days=1)
        refunds.request_answer(actor=org_staff(bought.institution), request_id=request.pk,
                               agree=True, today=late)  # fmt: skip
    assert "答复期限" in exc.value.messages[0]
    assert escrow.purchase_sums(bought).refunded == 0


def test_agreeing_when_nothing_is_left_ends_at_the_decision():
    purchase = paid_purchase(consumed=6)
    request = ask(purchase)
    admin = org_staff(purchase.institution)
    escrow.lessons_consume(actor=admin, purchase_id=purchase.pk, total=10)
    done = refunds.request_answer(actor=admin, request_id=request.pk, agree=True, today=DAY)
    assert done.status == S.AGREED and done.refund_amount == 0 and done.transaction is None


# --- the nightly sweep ----------------------------------------------------------------------


def test_the_sweep_leaves_a_request_on_its_deadline_day(bought):
    request = ask(bought)
    assert refunds.escalate_overdue(today=request.deadline) == 0
    request.refresh_from_db()
    assert request.status == S.PENDING


def test_the_sweep_sends_an_unanswered_request_to_the_bureau_the_day_after(
    bought, django_capture_on_commit_callbacks
):
    request = ask(bought)
    bureau = training_staff()
    with django_capture_on_commit_callbacks(execute=True):
        assert refunds.escalate_overdue(today=request.deadline + dt.timedelta(days=1)) == 1
    request.refresh_from_db()
    assert request.status == S.ESCALATED and request.escalated_at is not None
    assert Notice.objects.filter(user=bureau, key=f"refund:{request.pk}:escalated").exists()
    # a second run (a retried task) moves nothing
    assert refunds.escalate_overdue(today=request.deadline + dt.timedelta(days=2)) == 0
    assert AuditLog.objects.filter(action="institutions.refund.escalated").count() == 1


def test_the_nightly_task_runs_the_sweep(bought):
    from institutions.tasks import escrow_release_due

    request = ask(bought)
    escrow_release_due((request.deadline + dt.timedelta(days=1)).isoformat())
    request.refresh_from_db()
    assert request.status == S.ESCALATED


def test_an_escalated_request_cannot_be_answered_by_the_institution(bought):
    request = ask(bought)
    refunds.escalate_overdue(today=request.deadline + dt.timedelta(days=1))
    with pytest.raises(ValidationError):
        refunds.request_answer(actor=org_staff(bought.institution), request_id=request.pk,
                               agree=True, today=request.deadline)  # fmt: skip


# --- the bureau decides ---------------------------------------------------------------------


def test_the_bureau_decides_a_refund_of_an_escalated_request(
    bought, django_capture_on_commit_callbacks
):
    request = ask(bought)
    admin = org_staff(bought.institution)
    refunds.escalate_overdue(today=request.deadline + dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        done = refunds.request_decide(actor=training_staff(), request_id=request.pk, refund=True,
                                      reason="机构逾期未答复", today=DAY)  # fmt: skip
    assert done.status == S.REFUNDED and done.refund_amount == Decimal("600.00")
    assert done.decided_by is not None and done.decision_reason == "机构逾期未答复"
    assert Notice.objects.filter(user=admin, key=f"refund:{request.pk}:decided").exists()
    assert AuditLog.objects.filter(action="institutions.refund.decided_refund").count() == 1


def test_the_bureau_rejects_a_refused_request_with_a_reason(bought):
    request = ask(bought)
    refunds.request_answer(actor=org_staff(bought.institution), request_id=request.pk,
                           agree=False, reason="已开课", today=DAY)  # fmt: skip
    bureau = training_staff()
    with pytest.raises(ValidationError) as exc:
        refunds.request_decide(actor=bureau, request_id=request.pk, refund=False, reason="")
    assert "决定理由" in exc.value.message_dict["reason"][0]
    done = refunds.request_decide(actor=bureau, request_id=request.pk, refund=False,
                                  reason="合同约定不退", today=DAY)  # fmt: skip
    assert done.status == S.BUREAU_REJECTED
    assert escrow.purchase_sums(bought).refunded == 0
    again = refunds.request_decide(actor=bureau, request_id=request.pk, refund=False,
                                   reason="合同约定不退", today=DAY)  # fmt: skip
    assert again.status == S.BUREAU_REJECTED
    with pytest.raises(ValidationError):  # a decision is final
        refunds.request_decide(actor=bureau, request_id=request.pk, refund=True, reason="改判")


def test_the_bureau_may_decide_an_overdue_request_before_the_sweep(bought):
    request = ask(bought)
    late = request.deadline + dt.timedelta(days=1)
    done = refunds.request_decide(actor=training_staff(), request_id=request.pk, refund=True,
                                  reason="逾期", today=late)  # fmt: skip
    assert done.status == S.REFUNDED


def test_the_bureau_waits_while_the_institution_may_still_answer(bought):
    request = ask(bought)
    with pytest.raises(ValidationError):
        refunds.request_decide(actor=training_staff(), request_id=request.pk, refund=True,
                               reason="x", today=request.deadline)  # fmt: skip


def test_only_training_staff_decide(bought, world):
    request = ask(bought)
    refunds.escalate_overdue(today=request.deadline + dt.timedelta(days=1))
    for user in (world.bureau, org_staff(bought.institution), bought.parent.user):
        with pytest.raises(PermissionDenied):
            refunds.request_decide(actor=user, request_id=request.pk, refund=True, reason="x")
    assert escrow.purchase_sums(bought).refunded == 0
