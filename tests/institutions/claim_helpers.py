"""Shared makers of the claim tests (tests/institutions/test_claims*.py and
tests/post_routes/cases_training.py): a paid purchase of a parent, the institution's staff."""

import datetime as dt
import itertools
from decimal import Decimal

from django.contrib.auth.models import Group

from institutions import escrow
from institutions.escrow_models import Purchase
from tests.factories import InstitutionStaffFactory, ParentFactory, UserFactory
from tests.institutions.conftest import START, escrow_institution

DAY = START + dt.timedelta(days=2)  # Wednesday 2026-03-04, inside every purchase's period
LATER = dt.date(2026, 4, 1)
_keys = itertools.count(1)


def bureau_training(username="claims_xiaowai"):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name="校外培训"))
    return user


def institution_with_staff(*, role="admin", username=None, **kwargs):
    inst = escrow_institution(**kwargs)
    staff = InstitutionStaffFactory(
        institution=inst, role=role, **({"user__username": username} if username else {})
    )
    return inst, staff.user


def paid_purchase(institution, parent=None, *, lessons=10, amount="1000.00", actor=None,
                  **kwargs) -> Purchase:  # fmt: skip
    """A paid (ACTIVE) purchase of the institution's first course, then given to ``parent``
    (a portal.Parent): until the sales helper's own maker exists, staff-typed and paid."""
    actor = actor or bureau_training(f"claims_staff_{next(_keys)}")
    data = {
        "course_id": institution.courses.first().pk, "parent_name": "张三",
        "parent_phone": "13812345678", "lessons": lessons, "amount": Decimal(amount),
        "starts_on": START, "ends_on": dt.date(2026, 5, 29),
        "idempotency_key": f"CLAIM-PAY-{next(_keys)}",
    }  # fmt: skip
    data.update(kwargs)
    purchase = escrow.purchase_record(actor=actor, **data)
    if parent is not None:
        Purchase.objects.filter(pk=purchase.pk).update(parent=parent)
        purchase.refresh_from_db()
    return purchase


def parent_of(user):
    return user.parent


def stranger_parent(username="claims_stranger"):
    return ParentFactory(user__username=username)
