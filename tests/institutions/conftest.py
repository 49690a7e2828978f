"""Fixtures of the escrow tests (none autouse: the other institutions tests are untouched)."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from institutions import escrow
from institutions.escrow_models import EscrowEntry, EscrowTransaction
from institutions.models import Course, Institution, SupervisedAccount
from portal import ledger
from tests.factories import DistrictFactory, UserFactory

START = dt.date(2026, 3, 2)
END = dt.date(2026, 5, 29)
_codes = itertools.count(1)


def escrow_institution(
    *, name="启明艺术培训学校", kind="escrow", scale=100, deposit="0", district=None, course=True
):
    """An institution with a supervised account of ``kind`` (None: none) and a course."""
    institution = Institution.objects.create(
        name=name, credit_code=f"ESCROWTEST{next(_codes):08d}", category="non_subject",
        mode="offline", nature="non_profit", district=district or DistrictFactory(), scale=scale,
        licence_number="教民0001号", licence_issued=dt.date(2024, 1, 1),
        licence_expires=dt.date(2028, 12, 31),
    )  # fmt: skip
    if kind:
        SupervisedAccount.objects.create(
            institution=institution, kind=kind, bank="工商银行", account_name=name,
            account_number="6222020200112233", deposit_amount=Decimal(deposit),
        )  # fmt: skip
    if course:
        Course.objects.create(
            institution=institution, name="少儿美术", subject="文化艺术", mode="offline",
            lesson_minutes=45, class_size=10, price_per_lesson=Decimal("35.00"),
            term_start=START, term_end=END,
        )  # fmt: skip
    return institution


def buy(actor, institution, *, key="PAY-0001", lessons=10, amount="1000.00", **kwargs):
    data = {
        "course_id": institution.courses.first().pk, "parent_name": "张三",
        "parent_phone": "13812345678", "lessons": lessons, "amount": Decimal(amount),
        "starts_on": START, "ends_on": END, "idempotency_key": key,
    }  # fmt: skip
    data.update(kwargs)
    return escrow.purchase_record(actor=actor, **data)


@pytest.fixture
def escrow_staff(db):
    """Bureau staff of the training-institutions line (group 校外培训)."""
    user = UserFactory(username="escrow_staff", is_staff=True)
    user.groups.add(Group.objects.get(name="校外培训"))
    return user


@pytest.fixture
def ledger_checked(db):
    """After the test: every transaction has entries summing to zero, and all entries sum to
    zero. (The escrow test modules use it autouse.)"""
    yield
    assert list(ledger.unbalanced_transactions(EscrowTransaction)) == []
    assert ledger.ledger_total(EscrowEntry) == Decimal("0.00")
