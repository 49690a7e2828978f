"""POST cases of the training routes (/training/, institutions/claim_views.py): the
institution's claim of a lesson, the parent's confirmation and dispute."""

import datetime as dt

from django.urls import reverse

from institutions import claims
from institutions.claim_models import LessonClaim
from tests.factories import InstitutionStaffFactory
from tests.institutions.claim_helpers import DAY, paid_purchase
from tests.institutions.conftest import escrow_institution
from tests.post_routes import Case, case

PARENT_REFUSED = ("anonymous", "stranger_parent", "other_institution", "school",
                  "bureau_homework")  # fmt: skip
INSTITUTION_REFUSED = ("anonymous", "parent", "other_institution", "school", "bureau_homework",
                       "staff_without_group")  # fmt: skip


def _setup(w, *, claims_made=1):
    inst = escrow_institution(district=w.school_a.district)
    staff = InstitutionStaffFactory(institution=inst, role="desk", user__username="desk").user
    p = paid_purchase(inst, w.parent_a.parent)
    made = [
        claims.claim_record(
            actor=staff, course_id=p.course_id, purchase_ids=[p.pk],
            date=DAY + dt.timedelta(days=i), start=dt.time(18, 0), end=dt.time(18, 45),
        )[0]
        for i in range(claims_made)
    ]  # fmt: skip
    return staff, p, made


def _statuses(purchase):
    return lambda: list(
        LessonClaim.objects.filter(purchase=purchase)
        .order_by("pk")
        .values_list("status", flat=True)
    )


@case("training:course_claim", refused=INSTITUTION_REFUSED)
def course_claim(w):
    staff, p, _made = _setup(w, claims_made=0)
    return Case(
        url=reverse("training:course_claim", args=[p.course_id]),
        user=staff,
        valid={
            "date": DAY.isoformat(),
            "start": "18:00",
            "end": "18:45",
            "lessons": "1",
            "purchases": [p.pk],
        },  # fmt: skip
        state=lambda: list(LessonClaim.objects.values_list("purchase_id", "date", "start")),
        audit="institutions.claim.recorded",
        invalid={
            "date": DAY.isoformat(),
            "start": "18:00",
            "end": "17:00",
            "lessons": "1",
            "purchases": [p.pk],
        },  # fmt: skip
        error="结束时间须晚于开始时间",
    )


@case("training:claim_confirm", refused=PARENT_REFUSED)
def claim_confirm(w):
    _staff, p, (first, disputed) = _setup(w, claims_made=2)
    claims.claim_dispute(actor=w.parent_a, claim_id=disputed.pk, reason="没上课")
    return Case(
        url=reverse("training:claim_confirm", args=[first.pk]),
        user=w.parent_a,
        valid={},
        state=_statuses(p),
        audit="institutions.claim.confirmed",
        invalid={},
        invalid_url=reverse("training:claim_confirm", args=[disputed.pk]),
        error="该消课已有异议，不能再确认",
    )


@case("training:claim_dispute", refused=PARENT_REFUSED)
def claim_dispute(w):
    _staff, p, (first,) = _setup(w)
    return Case(
        url=reverse("training:claim_dispute", args=[first.pk]),
        user=w.parent_a,
        valid={"reason": "那天没有上课"},
        state=_statuses(p),
        audit="institutions.claim.disputed",
        invalid={"reason": ""},
        error="请填写异议事由",
    )
