"""The 示范文本 in the admin (every edit a new version) and the nightly check of money that
arrived for a sale and was not booked as its payment."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from institutions import escrow
from institutions.escrow_models import BankStatementLine
from institutions.escrow_views import statement_parse
from institutions.sale_checks import money_to_return
from institutions.sale_models import ContractTemplate
from portal.models import AuditLog
from tests.institutions.helpers import training_staff
from tests.institutions.sale_helpers import accept, ensure_template, make_offer


@pytest.fixture(autouse=True)
def _template(db):
    """The migration's 示范文本 (version 1, which these tests count on): a transaction=True
    test run earlier on the same xdist worker flushes it away (work stealing mixes the
    order pytest-django gives)."""
    ensure_template()


@pytest.fixture(autouse=True)
def _ledger_sound(ledger_checked):
    yield


def test_editing_the_template_in_the_admin_publishes_a_new_version(db, client):
    staff = training_staff()
    client.force_login(staff)
    v1 = ContractTemplate.objects.get()
    url = reverse("admin:institutions_contracttemplate_change", args=[v1.pk])
    assert client.get(url).status_code == 200
    r = client.post(url, {"title": "校外培训服务合同（2027版）", "body": "乙方：{机构名称}",
                          "note": "按新示范文本修订"})  # fmt: skip
    assert r.status_code == 302
    assert list(ContractTemplate.objects.order_by("version").values_list("version", "title")) == [
        (1, v1.title), (2, "校外培训服务合同（2027版）"),
    ]  # fmt: skip
    v1.refresh_from_db()
    assert v1.body.startswith("依据教育部")  # the issued version is frozen
    assert AuditLog.objects.filter(action="institutions.sale.contract_published").count() == 1


def test_a_template_with_an_unknown_placeholder_is_refused_in_the_admin(db, client):
    client.force_login(training_staff())
    r = client.post(reverse("admin:institutions_contracttemplate_add"),
                    {"title": "合同", "body": "{身份证号}", "note": ""}, follow=True)  # fmt: skip
    assert "无法填写的占位符" in r.content.decode()
    assert ContractTemplate.objects.count() == 1


def test_money_of_another_amount_is_a_finding_until_its_line_is_booked(db):
    staff = training_staff()
    p = make_offer()
    accept(p)
    account = p.institution.supervised_account
    day = timezone.localdate().isoformat()
    rows, enc = statement_parse(
        f"日期,金额,参考号,对方户名\n{day},10.00,{p.idempotency_key},张三\n".encode()
    )
    escrow.statement_import(actor=staff, account_id=account.pk, filename="a.csv", rows=rows,
                            encoding=enc)  # fmt: skip
    found = list(money_to_return(dt.date.today()))
    assert len(found) == 1 and "10.00 元" in found[0].message
    assert found[0].institution_id == p.institution_id
    line = BankStatementLine.objects.get()
    escrow.bank_line_book(actor=staff, line_id=line.pk, memo="金额不符，已退回家长")
    assert list(money_to_return(dt.date.today())) == []
