"""Sales for tests (the sales helper's; other parts use make_paid_sale).

``make_paid_sale`` goes through the real flow: the institution's staff record the sale
(sales.sale_offer), the parent accepts the contract (offer_accept) and pays through the
sandbox gateway's signed notification (sandbox_complete), which posts Kind.PURCHASE on the
escrow ledger: the purchase is ACTIVE (履行中, money held) and linked to ``parent``."""

import datetime as dt
import importlib
import itertools
from decimal import Decimal

from institutions import sales
from institutions.escrow_models import Purchase
from institutions.models import Course, Institution, SupervisedAccount
from institutions.sale_models import ContractTemplate
from tests.factories import DistrictFactory, InstitutionStaffFactory, ParentFactory

START = dt.date(2026, 3, 2)
END = dt.date(2026, 5, 29)
_codes = itertools.count(1)
_phones = itertools.count(1)


def sale_institution(*, name="启航艺术培训学校", kind="escrow", district=None):
    """A licensed non-subject institution with a supervised account and one course."""
    institution = Institution.objects.create(
        name=name, credit_code=f"SALETEST{next(_codes):010d}", category="non_subject",
        mode="offline", nature="non_profit", district=district or DistrictFactory(), scale=100,
        licence_number="教民0002号", licence_issued=dt.date(2024, 1, 1),
        licence_expires=dt.date(2028, 12, 31),
    )  # fmt: skip
    if kind:
        SupervisedAccount.objects.create(
            institution=institution, kind=kind, bank="工商银行", account_name=name,
            account_number="6222020200445566", deposit_amount=Decimal("100000"),
        )  # fmt: skip
    Course.objects.create(
        institution=institution, name="少儿书法", subject="文化艺术", mode="offline",
        lesson_minutes=45, class_size=10, price_per_lesson=Decimal("35.00"),
        term_start=START, term_end=END,
    )  # fmt: skip
    return institution


def seller_of(institution, role="admin", username=None):
    kwargs = {"user__username": username} if username else {}
    return InstitutionStaffFactory(institution=institution, role=role, **kwargs).user


def new_parent(**kwargs):
    kwargs.setdefault("phone", f"139{next(_phones):08d}")
    return ParentFactory(**kwargs)


def ensure_template():
    """The 示范文本's first version (the migration makes it; a transaction=True test's flush
    removes it)."""
    if not ContractTemplate.objects.exists():
        mig = importlib.import_module("institutions.migrations.0008_sales_selling")
        ContractTemplate.objects.create(version=1, title=mig.TITLE, body=mig.BODY)


def make_offer(*, institution=None, parent=None, phone=None, course=None, seller=None,
               lessons=10, amount="1000.00", starts_on=START, ends_on=END) -> Purchase:  # fmt: skip
    """An OFFERED sale (待家长确认). ``phone`` without ``parent``: a parent with no account."""
    ensure_template()
    institution = institution or sale_institution()
    seller = seller or seller_of(institution)
    if parent is None and phone is None:
        parent = new_parent()
    course = course or institution.courses.first()
    return sales.sale_offer(
        actor=seller, course_id=course.pk, parent_name=parent.name if parent else "王五",
        parent_phone=phone or parent.phone, lessons=lessons, amount=Decimal(amount),
        starts_on=starts_on, ends_on=ends_on,
    )  # fmt: skip


def accept(purchase: Purchase, user=None) -> Purchase:
    user = user or purchase.parent.user
    return sales.offer_accept(
        user=user, purchase_id=purchase.pk, text_sha256=purchase.contract.text_sha256
    )


def make_paid_sale(*, institution=None, parent=None, course=None, lessons=10, amount="1000.00",
                   starts_on=START, ends_on=END) -> Purchase:  # fmt: skip
    """A paid sale: ACTIVE (履行中), its amount held in the escrow, linked to ``parent``."""
    parent = parent or new_parent()
    purchase = make_offer(
        institution=institution, parent=parent, course=course, lessons=lessons,
        amount=amount, starts_on=starts_on, ends_on=ends_on,
    )  # fmt: skip
    accept(purchase, parent.user)
    sales.sandbox_complete(user=parent.user, purchase_id=purchase.pk, pay=True)
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.ACTIVE  # a helper's own sanity, not validation
    return purchase
