"""The list colour (white / grey / black) of an institution, derived from its data.

Never a hand-set flag: the same rules run in Python for one institution's page and as a SQL
expression for lists and search, and both read the date, so an institution whose licence
expired this morning is not white this morning (not from the next nightly run).
  black: no licence, licence revoked or expired, or deregistered (注销)
  grey:  licensed, but suspended by staff, fees not supervised, annual review not passed
         within the review period, or an open 责令整改 past its deadline (the deadline day
         itself is still within it: grey from the midnight after it, until closed)
  white: everything in order
"""

import datetime as dt
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.db.models import (
    Case,
    CharField,
    Exists,
    OuterRef,
    Q,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from institutions.models import (
    AnnualReview,
    Institution,
    Sanction,
    SupervisedAccount,
    TrainingPolicy,
)

WHITE, GREY, BLACK = "white", "grey", "black"
LABELS = {
    WHITE: gettext_lazy("白名单"),
    GREY: gettext_lazy("灰名单"),
    BLACK: gettext_lazy("黑名单"),
}


@dataclass(frozen=True)
class Verdict:
    colour: str
    reasons: list[str]

    @property
    def label(self) -> str:
        return str(LABELS[self.colour])


def _review_since(today: dt.date, policy: TrainingPolicy) -> dt.date:
    return today - relativedelta(months=policy.review_valid_months)


def overdue_rectifications(*, today: dt.date):
    """Open 责令整改 whose deadline has passed on ``today`` (deadline < today)."""
    return Sanction.objects.filter(
        kind=Sanction.Kind.RECTIFY, closed_on__isnull=True, deadline__lt=today
    )


def verdict(
    institution: Institution, *, today: dt.date | None = None, policy: TrainingPolicy | None = None
) -> Verdict:
    today = today or timezone.localdate()
    policy = policy or TrainingPolicy.current()
    black, grey = [], []
    if not institution.licence_number:
        black.append(_("无办学许可证"))
    elif institution.licence_revoked:
        black.append(_("办学许可证已被吊销"))
    elif institution.licence_expires is None or institution.licence_expires < today:
        black.append(
            _("办学许可证已于 %(date)s 过期") % {"date": institution.licence_expires}
            if institution.licence_expires
            else _("办学许可证未登记有效期")
        )
    if institution.governance == Institution.Governance.DEREGISTERED:
        black.append(_("已注销"))
    if black:
        return Verdict(BLACK, black)
    if institution.suspended_reason:
        grey.append(_("已暂停：%(reason)s") % {"reason": institution.suspended_reason})
    account = SupervisedAccount.objects.filter(institution=institution, active=True).first()
    if account is None:
        grey.append(_("预收费未纳入监管"))
    passed = AnnualReview.objects.filter(
        institution=institution, result=AnnualReview.Result.PASSED,
        date__gte=_review_since(today, policy),
    ).exists()  # fmt: skip
    if not passed:
        grey.append(_("年检未通过或已逾期"))
    overdue = (
        overdue_rectifications(today=today)
        .filter(institution=institution)
        .order_by("deadline")
        .values_list("deadline", flat=True)
        .first()
    )
    if overdue is not None:
        grey.append(_("责令整改逾期未完成（整改期限 %(date)s）") % {"date": overdue})
    if grey:
        return Verdict(GREY, grey)
    return Verdict(WHITE, [_("证照有效、年检合格、预收费已纳入监管")])


def colour_expression(*, today: dt.date | None = None, policy: TrainingPolicy | None = None):
    """The same rules as ``verdict`` as one SQL CASE, for annotating querysets."""
    today = today or timezone.localdate()
    policy = policy or TrainingPolicy.current()
    supervised = Exists(SupervisedAccount.objects.filter(institution=OuterRef("pk"), active=True))
    reviewed = Exists(
        AnnualReview.objects.filter(
            institution=OuterRef("pk"), result=AnnualReview.Result.PASSED,
            date__gte=_review_since(today, policy),
        )
    )  # fmt: skip
    overdue = Exists(overdue_rectifications(today=today).filter(institution=OuterRef("pk")))
    black = (
        Q(licence_number="")
        | Q(licence_revoked=True)
        | Q(licence_expires__isnull=True)
        | Q(licence_expires__lt=today)
        | Q(governance=Institution.Governance.DEREGISTERED)
    )
    return Case(
        When(black, then=Value(BLACK)),
        When(~Q(suspended_reason="") | ~supervised | ~reviewed | overdue, then=Value(GREY)),
        default=Value(WHITE),
        output_field=CharField(),
    )
