"""Helpers of the refund tests: a paid purchase of a parent, the institution's staff."""

import itertools
from decimal import Decimal

from institutions import escrow
from institutions.escrow_models import Purchase
from tests.factories import InstitutionStaffFactory, ParentFactory, UserFactory
from tests.institutions.conftest import buy, escrow_institution

_keys = itertools.count(1)


def paid_purchase(*, institution=None, parent=None, lessons=10, amount="1000.00", consumed=0,
                  confirmed=0, kind="escrow", **kwargs) -> Purchase:  # fmt: skip
    """A paid purchase (履行中) of ``parent`` (a portal Parent; made when None), recorded
    through escrow.purchase_record, with ``consumed`` and ``confirmed`` lessons."""
    institution = institution or escrow_institution(kind=kind)
    recorder = UserFactory(username="refund_recorder", is_staff=True)
    purchase = buy(recorder, institution, key=f"REFUND-TEST-{next(_keys)}", lessons=lessons,
                   amount=amount, **kwargs)  # fmt: skip
    parent = parent or ParentFactory()
    Purchase.objects.filter(pk=purchase.pk).update(parent=parent)
    if consumed:
        escrow.lessons_consume(actor=recorder, purchase_id=purchase.pk, total=consumed)
    if confirmed:
        escrow.lessons_confirm(
            actor=recorder, purchase_id=purchase.pk, total=confirmed, today=kwargs.get("starts_on")
        )
    purchase.refresh_from_db()
    return purchase


def org_staff(institution, role="admin", username=None):
    kwargs = {"user__username": username} if username else {}
    return InstitutionStaffFactory(institution=institution, role=role, **kwargs).user


def paid_out(purchase) -> Decimal:
    sums = escrow.purchase_sums(purchase)
    return sums.released + sums.refunded
