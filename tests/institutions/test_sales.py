"""Selling through the escrow: the offer, its rules at their boundaries, the contract, the
parent's acceptance, lapse, and the link to the parent's account."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from institutions import escrow, sales
from institutions.escrow_models import Purchase
from institutions.models import Course
from institutions.sale_models import ContractTemplate, SaleContract
from institutions.sale_selectors import org_summary
from portal.models import AuditLog
from tests.institutions.sale_helpers import (
    END,
    START,
    accept,
    ensure_template,
    make_offer,
    make_paid_sale,
    new_parent,
    sale_institution,
    seller_of,
)


@pytest.fixture(autouse=True)
def _template(db):
    """The migration's 示范文本 (version 1, which these tests count on): a transaction=True
    test run earlier on the same xdist worker flushes it away (work stealing mixes the
    order pytest-django gives)."""
    ensure_template()


S = Purchase.Status


@pytest.fixture(autouse=True)
def _ledger_sound(ledger_checked):
    yield


@pytest.fixture
def inst(db):
    return sale_institution()


@pytest.fixture
def seller(inst):
    return seller_of(inst)


def offer(seller, inst, **overrides):
    data = {
        "course_id": inst.courses.first().pk, "parent_name": "张三",
        "parent_phone": "13700001111", "lessons": 10, "amount": Decimal("1000.00"),
        "starts_on": START, "ends_on": END,
    }  # fmt: skip
    data.update(overrides)
    return sales.sale_offer(actor=seller, **data)


def refused(field, **overrides):
    """The message on ``field`` when the offer with ``overrides`` is refused."""
    with pytest.raises(ValidationError) as exc:
        offer(**overrides)
    return exc.value.message_dict[field]


# --- the offer ---------------------------------------------------------------------------


def test_an_offer_is_unpaid_and_carries_the_frozen_filled_contract(inst, seller):
    parent = new_parent(phone="13700001111")
    p = offer(seller, inst)
    assert p.status == S.OFFERED and p.parent == parent and not p.is_paid
    assert p.recorded_by == seller and p.paid_at is None
    assert p.offer_expires_at > timezone.now() + dt.timedelta(days=6)
    c = SaleContract.objects.get(purchase=p)
    assert c.template == ContractTemplate.objects.get(version=1)
    assert inst.name in c.text and "少儿书法" in c.text and "1000.00" in c.text
    assert p.idempotency_key in c.text  # the reference to write on the transfer
    assert "137****1111" in c.text and "13700001111" not in c.text
    assert c.text_sha256 == sales.text_hash(c.text) and "{" not in c.text
    log = AuditLog.objects.get(action="institutions.sale.offered")
    assert log.new["parent_phone"] == "137****1111" and "13700001111" not in str(log.new)
    # no money yet: nothing on the ledger, nothing counted as held
    assert not p.transactions.exists()
    assert escrow.unconsumed_values([inst.pk]) == {inst.pk: Decimal("0.00")}


def test_a_later_template_version_leaves_the_issued_contract_as_it_was(inst, seller, db):
    p = offer(seller, inst)
    text = p.contract.text
    bureau = _training_staff()
    v2 = sales.contract_template_publish(actor=bureau, title="新合同", body="乙方：{机构名称}")
    assert v2.version == 2
    p.contract.refresh_from_db()
    assert p.contract.text == text and p.contract.template.version == 1
    assert offer(seller, inst).contract.text == f"乙方：{inst.name}"


def test_a_template_with_an_unknown_placeholder_is_refused(db):
    with pytest.raises(ValidationError) as exc:
        sales.contract_template_publish(actor=_training_staff(), title="合同", body="{身份证号}")
    assert "{身份证号}" in exc.value.message_dict["body"][0]
    assert ContractTemplate.objects.count() == 1


def test_only_training_staff_publish_the_template(seller):
    with pytest.raises(PermissionDenied):
        sales.contract_template_publish(actor=seller, title="合同", body="正文")


def _training_staff():
    from tests.institutions.helpers import training_staff

    return training_staff()


@pytest.mark.parametrize(
    "field,ok,over,words",
    [
        ("lessons", {"lessons": 60}, {"lessons": 61}, "60课时"),
        ("amount", {"amount": Decimal("5000.00")}, {"amount": Decimal("5000.01")}, "5000元"),
        ("ends_on", {"ends_on": dt.date(2026, 6, 2)}, {"ends_on": dt.date(2026, 6, 3)}, "3个月"),
    ],
)
def test_the_caps_allow_the_limit_and_refuse_one_over_naming_the_rule(
    inst, seller, field, ok, over, words
):
    assert offer(seller, inst, **ok).status == S.OFFERED
    message = refused(field, seller=seller, inst=inst, **over)
    assert words in message[0]


@pytest.mark.parametrize("phone", ["", "1380013800", "138001380001", "23800138000", "1380013800a"])
def test_a_malformed_phone_is_refused(inst, seller, phone):
    assert (
        "11 位手机号码" in refused("parent_phone", seller=seller, inst=inst, parent_phone=phone)[0]
    )
    assert not Purchase.objects.exists()


def test_an_unknown_phone_waits_and_is_linked_when_that_parent_logs_in(inst, seller, client):
    p = offer(seller, inst, parent_phone="13600002222")
    assert p.parent is None
    parent = new_parent(phone="13600002222")
    other = new_parent(phone="13600003333")
    client.force_login(other.user)  # another parent's login links nothing of it
    p.refresh_from_db()
    assert p.parent is None
    client.force_login(parent.user)
    p.refresh_from_db()
    assert p.parent == parent
    assert AuditLog.objects.filter(action="institutions.sale.linked").count() == 1


def test_a_phone_shared_by_two_accounts_links_nobody(inst, seller, client):
    a = new_parent(phone="13600004444")
    new_parent(phone="13600004444")
    p = offer(seller, inst, parent_phone="13600004444")
    client.force_login(a.user)
    p.refresh_from_db()
    assert p.parent is None


def test_a_course_not_on_sale_is_refused(inst, seller):
    Course.objects.filter(institution=inst).update(active=False)
    assert "停售" in refused("course", seller=seller, inst=inst)[0]


def test_a_course_not_approved_by_filing_is_refused(inst, seller):
    Course.objects.filter(institution=inst).update(filing=Course.Filing.SUBMITTED)
    message = refused("course", seller=seller, inst=inst)[0]
    assert "备案" in message


def test_a_suspended_institution_may_not_sell(inst, seller):
    inst.suspended_reason = "无证办学查处"
    inst.save(update_fields=["suspended_reason"])
    assert "暂停" in refused("course", seller=seller, inst=inst)[0]


def test_a_black_listed_institution_may_not_sell(inst, seller):
    inst.licence_revoked = True
    inst.save(update_fields=["licence_revoked"])
    assert "黑名单" in refused("course", seller=seller, inst=inst)[0]


def test_an_institution_without_a_supervised_account_may_not_sell(db):
    inst = sale_institution(kind=None)
    with pytest.raises(ValidationError) as exc:
        offer(seller_of(inst), inst)
    assert "资金监管账户" in exc.value.messages[0]


def test_another_institutions_course_is_refused(inst, seller):
    other = sale_institution(name="别家")
    with pytest.raises(PermissionDenied):
        offer(seller, inst, course_id=other.courses.first().pk)
    assert not Purchase.objects.exists()


@pytest.mark.parametrize("role,allowed", [("admin", True), ("desk", True), ("finance", False)])
def test_sellers_are_the_admin_and_the_desk(inst, role, allowed):
    user = seller_of(inst, role=role)
    if allowed:
        assert offer(user, inst).status == S.OFFERED
    else:
        with pytest.raises(PermissionDenied):
            offer(user, inst)


# --- the parent's answer -------------------------------------------------------------------


def test_the_parent_accepts_the_text_they_were_shown(db):
    p = make_offer()
    accept(p)
    p.refresh_from_db()
    assert p.status == S.ACCEPTED
    c = p.contract
    c.refresh_from_db()
    assert c.accepted_by == p.parent.user and c.accepted_at is not None
    log = AuditLog.objects.get(action="institutions.sale.accepted")
    assert log.new["template"] == 1 and log.new["contract_sha256"] == c.text_sha256
    accept(p)  # again: nothing changes
    assert AuditLog.objects.filter(action="institutions.sale.accepted").count() == 1


def test_another_text_than_the_issued_one_is_refused(db):
    p = make_offer()
    with pytest.raises(ValidationError) as exc:
        sales.offer_accept(user=p.parent.user, purchase_id=p.pk, text_sha256="0" * 64)
    assert "合同文本" in exc.value.message_dict["text_sha256"][0]
    p.refresh_from_db()
    assert p.status == S.OFFERED


def test_a_parent_cannot_accept_someone_elses_offer(db):
    p = make_offer()
    stranger = new_parent()
    with pytest.raises(PermissionDenied):
        sales.offer_accept(user=stranger.user, purchase_id=p.pk,
                           text_sha256=p.contract.text_sha256)  # fmt: skip
    p.refresh_from_db()
    assert p.status == S.OFFERED


def test_an_offer_unanswered_past_its_days_lapses(db, settings):
    settings.PORTAL_SALE_OFFER_DAYS = 7
    p = make_offer()
    later = p.offer_expires_at + dt.timedelta(seconds=1)
    with pytest.raises(ValidationError) as exc:
        sales.offer_accept(user=p.parent.user, purchase_id=p.pk,
                           text_sha256=p.contract.text_sha256, now=later)  # fmt: skip
    assert "过期" in exc.value.messages[0]
    p.refresh_from_db()
    assert p.status == S.EXPIRED  # the lapse is kept although the acceptance was refused


def test_the_sweep_lapses_only_offers_past_their_time(db):
    due, fresh = make_offer(), make_offer()
    accepted = make_offer()
    accept(accepted)
    Purchase.objects.filter(pk__in=[due.pk, accepted.pk]).update(
        offer_expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert sales.offers_expire() == 1
    statuses = dict(Purchase.objects.values_list("pk", "status"))
    assert statuses == {due.pk: S.EXPIRED, fresh.pk: S.OFFERED, accepted.pk: S.ACCEPTED}
    assert sales.offers_expire() == 0


def test_the_parent_declines_and_the_institution_cancels(db):
    a, b = make_offer(), make_offer()
    sales.offer_decline(user=a.parent.user, purchase_id=a.pk)
    staff = seller_of(b.institution, role="desk")
    with pytest.raises(ValidationError):
        sales.sale_cancel(actor=staff, purchase_id=b.pk, reason="")
    sales.sale_cancel(actor=staff, purchase_id=b.pk, reason="家长改报其他课程")
    assert set(Purchase.objects.values_list("status", flat=True)) == {S.CANCELLED}
    with pytest.raises(PermissionDenied):  # another institution's staff
        sales.sale_cancel(actor=seller_of(sale_institution(name="别家")), purchase_id=a.pk,
                          reason="x")  # fmt: skip


def test_a_paid_sale_cannot_be_cancelled(db):
    p = make_paid_sale()
    with pytest.raises(ValidationError):
        sales.sale_cancel(actor=seller_of(p.institution), purchase_id=p.pk, reason="反悔")


# --- unpaid purchases hold no money -------------------------------------------------------


def test_an_unpaid_sale_takes_no_consumption_dispute_or_refund(db):
    p = make_offer()
    staff = seller_of(p.institution)
    with pytest.raises(ValidationError, match="尚未付款"):
        escrow.lessons_consume(actor=staff, purchase_id=p.pk, total=1)
    with pytest.raises(ValidationError, match="尚未付款"):
        escrow.dispute_open(actor=staff, purchase_id=p.pk, reason="不满意")
    assert escrow.refund_unconsumed(actor=staff, purchase_id=p.pk) is None
    with pytest.raises(ValidationError):
        escrow.refund_full(actor=staff, purchase_id=p.pk, reason="机构关门")
    p.refresh_from_db()
    assert p.status == S.OFFERED and escrow.purchase_sums(p).paid == 0


def test_only_paid_sales_count_as_money_held(db):
    inst = sale_institution()
    make_offer(institution=inst, amount="300.00")
    accept(make_offer(institution=inst, amount="200.00"))
    paid = make_paid_sale(institution=inst, amount="1000.00")
    assert escrow.unconsumed_values([inst.pk]) == {inst.pk: Decimal("1000.00")}
    assert escrow.escrow_balances([inst.pk]) == {inst.pk: Decimal("1000.00")}
    assert escrow.purchase_sums(paid).paid == Decimal("1000.00")
    assert paid.paid_at is not None
    assert escrow.warning_levels(inst.district) == {"": 1, "yellow": 0, "red": 0}


def test_org_summary_counts_the_institutions_sales(db):
    inst = sale_institution()
    make_offer(institution=inst)
    make_paid_sale(institution=inst)
    rows = {label: (value, url) for label, value, url in org_summary(inst)}
    assert rows["待家长确认"][0] == 1 and rows["待付款"][0] == 0 and rows["履行中"][0] == 1
    assert rows["待家长确认"][1].endswith("?status=offered")


@override_settings(PORTAL_SALE_OFFER_DAYS=2)
def test_the_offer_days_are_a_setting(db):
    p = make_offer()
    assert p.offer_expires_at < timezone.now() + dt.timedelta(days=2, minutes=1)
