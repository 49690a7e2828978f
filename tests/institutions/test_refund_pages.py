"""The refund pages: who sees which (another parent's or institution's request is a 404,
the wrong kind of user a 403), what they show, and the batch's preview, result and Excel."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from institutions import refund_selectors, refunds
from institutions.models import Institution
from tests.factories import ParentFactory
from tests.institutions.conftest import escrow_institution
from tests.institutions.helpers import training_staff
from tests.institutions.refund_helpers import org_staff, paid_purchase

pytestmark = pytest.mark.django_db


@pytest.fixture
def asked(world):
    purchase = paid_purchase(parent=world.parent_a.parent, consumed=4)
    request = refunds.request_ask(actor=world.parent_a, purchase_id=purchase.pk, reason="搬家")
    return purchase, request


def test_the_parent_sees_their_purchases_and_requests(client_for, world, asked):
    purchase, request = asked
    page = client_for(world.parent_a).get(reverse("refunds:mine"))
    assert page.status_code == 200
    text = page.content.decode()
    assert purchase.course.name in text and str(request) in text
    status = client_for(world.parent_a).get(reverse("refunds:status", args=[request.pk]))
    assert "待机构答复" in status.content.decode()
    assert "1000.00 / 0.00 / 0.00 / 1000.00" in status.content.decode()


def test_the_ask_page_shows_what_would_be_refunded_now(client_for, world):
    purchase = paid_purchase(parent=world.parent_a.parent, consumed=4)
    page = client_for(world.parent_a).get(reverse("refunds:ask", args=[purchase.pk]))
    assert page.status_code == 200
    assert "600.00" in page.content.decode()


def test_a_rejected_request_keeps_what_was_typed_and_names_the_field(client_for, world):
    purchase = paid_purchase(parent=world.parent_a.parent, consumed=10)
    page = client_for(world.parent_a).post(
        reverse("refunds:ask", args=[purchase.pk]), {"reason": "想退"}
    )
    assert page.status_code == 400
    text = page.content.decode()
    assert "全部消课" in text and "想退" in text


def test_another_parents_purchase_and_request_are_404(client_for, asked):
    purchase, request = asked
    stranger = client_for(ParentFactory().user)
    assert stranger.get(reverse("refunds:ask", args=[purchase.pk])).status_code == 404
    assert stranger.get(reverse("refunds:status", args=[request.pk])).status_code == 404
    assert "搬家" not in stranger.get(reverse("refunds:mine")).content.decode()


@pytest.mark.parametrize("name", ["mine", "ask", "status"])
def test_the_parent_pages_refuse_other_kinds(client_for, world, asked, name):
    purchase, request = asked
    args = {"mine": [], "ask": [purchase.pk], "status": [request.pk]}[name]
    url = reverse(f"refunds:{name}", args=args)
    assert client_for(None).get(url).status_code == 302
    for user in (world.principal_a, world.bureau, org_staff(purchase.institution)):
        assert client_for(user).get(url).status_code == 403


def test_the_institution_lists_and_answers_its_requests(client_for, asked):
    purchase, request = asked
    finance = client_for(org_staff(purchase.institution, "finance"))
    listing = finance.get(reverse("refunds:list"))
    assert listing.status_code == 200 and str(request) in listing.content.decode()
    assert "张三" not in listing.content.decode() and "张*" in listing.content.decode()
    answered = finance.post(reverse("refunds:answer", args=[request.pk]), {"decision": "agree"})
    assert answered.status_code == 302
    request.refresh_from_db()
    assert request.status == "refunded" and request.refund_amount == Decimal("600.00")


def test_the_institution_pages_refuse_the_desk_and_404_another_institution(client_for, asked):
    purchase, request = asked
    desk = client_for(org_staff(purchase.institution, "desk"))
    assert desk.get(reverse("refunds:list")).status_code == 403
    assert desk.get(reverse("refunds:answer", args=[request.pk])).status_code == 403
    other = client_for(org_staff(escrow_institution(name="别家"), "admin"))
    assert other.get(reverse("refunds:answer", args=[request.pk])).status_code == 404
    assert str(request) not in other.get(reverse("refunds:list")).content.decode()


def test_the_bureau_queue_and_decision(client_for, world, asked):
    purchase, request = asked
    refunds.request_answer(actor=org_staff(purchase.institution), request_id=request.pk,
                           agree=False, reason="不退")  # fmt: skip
    staff = client_for(training_staff())
    queue = staff.get(reverse("refunds:bureau"))
    assert queue.status_code == 200 and str(request) in queue.content.decode()
    decided = staff.post(
        reverse("refunds:decide", args=[request.pk]), {"decision": "refund", "reason": "应退"}
    )
    assert decided.status_code == 302
    request.refresh_from_db()
    assert request.status == "refunded"
    for user in (world.bureau, world.parent_a, org_staff(purchase.institution)):
        assert client_for(user).get(reverse("refunds:bureau")).status_code == 403
        assert client_for(user).get(reverse("refunds:decide", args=[request.pk])).status_code == 403


def test_the_batch_preview_run_result_and_excel(client_for, world):
    inst = escrow_institution(name="跑路学校")
    a = paid_purchase(institution=inst, amount="1000.00", consumed=2)
    Institution.objects.filter(pk=inst.pk).update(suspended_reason="停业")
    staff = client_for(training_staff())
    preview = staff.get(reverse("refunds:batch", args=[inst.pk]))
    assert preview.status_code == 200
    assert "1000.00 / 800.00 / 1000.00 / 0.00" in preview.content.decode()
    assert "跑路学校" in staff.get(reverse("refunds:bureau")).content.decode()
    unconfirmed = staff.post(reverse("refunds:batch", args=[inst.pk]), {"reason": "跑路"})
    assert unconfirmed.status_code == 400
    run = staff.post(reverse("refunds:batch", args=[inst.pk]), {"reason": "跑路", "confirm": "on"})
    assert run.status_code == 302
    result = staff.get(run["Location"])
    text = result.content.decode()
    assert a.masked_phone in text and a.parent_phone not in text
    assert "1000.00 / 800.00 / 1000.00 / 0.00" in text
    batch = inst.refund_batches.get()
    excel = staff.get(reverse("refunds:batch_excel", args=[batch.pk]))
    sheet = load_workbook(io.BytesIO(excel.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "预收费编号"
    assert rows[2][2] == a.masked_phone and rows[2][7] == 1000
    assert rows[-1][0] == "合计"
    for user in (world.bureau, world.parent_a):
        assert client_for(user).get(reverse("refunds:batch", args=[inst.pk])).status_code == 403
        url = reverse("refunds:batch_excel", args=[batch.pk])
        assert client_for(user).get(url).status_code == 403


def test_the_org_summary_counts_for_the_home_page(asked):
    purchase, request = asked
    summary = refund_selectors.org_summary(purchase.institution)
    assert summary[0][:2] == ("待答复的退费申请", 1)
    assert all(url == reverse("refunds:list") for _label, _value, url in summary)
    assert refund_selectors.org_summary(escrow_institution(name="别家"))[0][1] == 0


def test_the_lists_cost_a_fixed_number_of_queries(client_for, world, django_assert_max_num_queries):
    inst = escrow_institution()
    for _ in range(5):
        p = paid_purchase(institution=inst, parent=ParentFactory(), consumed=1)
        refunds.request_ask(actor=p.parent.user, purchase_id=p.pk, reason="退")
    staff = client_for(org_staff(inst, "finance"))
    with django_assert_max_num_queries(12):
        assert staff.get(reverse("refunds:list")).status_code == 200
    bureau = client_for(training_staff())
    with django_assert_max_num_queries(14):
        assert bureau.get(reverse("refunds:bureau")).status_code == 200


@pytest.mark.parametrize("name", ["ask", "status", "answer", "decide", "batch", "batch_result",
                                  "batch_excel"])  # fmt: skip
def test_an_id_out_of_range_is_a_404(client_for, world, name):
    users = {"ask": world.parent_a, "status": world.parent_a, "answer": None, "decide": None,
             "batch": None, "batch_result": None, "batch_excel": None}  # fmt: skip
    user = users[name]
    if name == "answer":
        user = org_staff(escrow_institution(), "admin")
    elif user is None:
        user = training_staff()
    url = reverse(f"refunds:{name}", args=[10**30])
    assert client_for(user).get(url).status_code == 404


def test_the_preview_warns_when_the_escrow_account_holds_less_than_it_should(client_for):
    from types import SimpleNamespace

    from institutions import escrow
    from institutions.models import SupervisedAccount

    inst = escrow_institution(name="挪用资金学校")
    paid_purchase(institution=inst, amount="1000.00")
    Institution.objects.filter(pk=inst.pk).update(suspended_reason="停业")
    staff = training_staff()
    account = SupervisedAccount.objects.get(institution=inst)
    row = SimpleNamespace(row_number=1, date=inst.created_at.date(), amount=Decimal("-300.00"),
                          reference="WD-1", counterparty="机构负责人")  # fmt: skip
    statement = escrow.statement_import(actor=staff, account_id=account.pk, filename="s.csv",
                                        rows=[row])  # fmt: skip
    page = client_for(staff).get(reverse("refunds:batch", args=[inst.pk]))
    assert "escrow-short" not in page.content.decode()  # not booked yet: the ledger is whole
    escrow.bank_line_book(actor=staff, line_id=statement.lines.get().pk, memo="违规划转")
    page = client_for(staff).get(reverse("refunds:batch", args=[inst.pk]))
    assert "差额 300.00 元" in page.content.decode()
