"""Nightly checks of the fee escrow (imported by institutions/checks.py).

- institutions.escrow.not_supervised: an institution selling courses, or holding parents'
  prepaid money, without an active supervised account.
- institutions.escrow.balance_short: an escrow account below the value of its unconsumed
  lessons (yellow / red by EscrowPolicy's percentages).
- institutions.escrow.deposit_short: a risk deposit below what the institution's scale
  requires (yellow / red likewise).
- institutions.escrow.over_cap: a collection over 3 months, 60 lessons or 5000 yuan.
- institutions.escrow.ledger_unbalanced: a ledger transaction whose entries do not sum to
  zero (the database refuses one at commit; this sees what a bypass would leave).
"""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db.models import DurationField, Exists, ExpressionWrapper, F, OuterRef, Q

from institutions import escrow
from institutions.escrow_models import EscrowPolicy, EscrowTransaction, Purchase
from institutions.models import Course, Institution, SupervisedAccount
from portal import ledger
from portal.compliance import Found, register
from portal.models import Finding

SEVERITY = {"yellow": Finding.Severity.WARNING, "red": Finding.Severity.SERIOUS}
LEVEL_NAME = {"yellow": "黄色预警", "red": "红色预警"}


@register(
    "institutions.escrow.not_supervised",
    title="预收费未纳入监管",
    severity=Finding.Severity.SERIOUS,
    over=lambda: Institution.objects.all(),
)
def fees_not_supervised(for_date, institutions):
    # 预收费监管: every fee goes into a bank escrow or is covered by a risk deposit. An
    # institution that sells courses or still holds parents' money without one is a finding.
    supervised = SupervisedAccount.objects.filter(institution=OuterRef("pk"), active=True)
    selling = Course.objects.filter(institution=OuterRef("pk"), active=True)
    holding = Purchase.objects.filter(institution=OuterRef("pk"), status=Purchase.Status.ACTIVE)
    rows = institutions.filter(Exists(selling) | Exists(holding)).filter(~Exists(supervised))
    for institution in rows.exclude(governance=Institution.Governance.DEREGISTERED):
        yield Found(
            subject=institution,
            institution_id=institution.pk,
            message=f"{institution.name}有在售课程或未消课的预收费，但没有有效的资金监管账户"
            "（银行托管或风险保证金）。",
        )


@register(
    "institutions.escrow.balance_short",
    title="托管余额低于未消课金额",
    severity=Finding.Severity.WARNING,
    over=lambda: SupervisedAccount.objects.filter(kind=SupervisedAccount.Kind.ESCROW, active=True),
)
def escrow_balance_short(for_date, accounts):
    yield from _short(
        accounts,
        lambda state, inst: (
            f"{inst.name}托管账户余额 {state.have} 元，低于未消课金额 "
            f"{state.need} 元（{LEVEL_NAME[state.level]}，差 {state.need - state.have} 元）。"
        ),
    )


def _short(accounts, message):
    """A finding per account in a yellow or red state (escrow.account_states decides)."""
    policy = EscrowPolicy.current()
    for state in escrow.account_states(accounts.select_related("institution"), policy):
        if state.level:
            institution = state.account.institution
            yield Found(
                subject=state.account,
                institution_id=institution.pk,
                severity=SEVERITY[state.level],
                message=message(state, institution),
            )


@register(
    "institutions.escrow.deposit_short",
    title="风险保证金低于应缴金额",
    severity=Finding.Severity.WARNING,
    over=lambda: SupervisedAccount.objects.filter(kind=SupervisedAccount.Kind.DEPOSIT, active=True),
)
def deposit_short(for_date, accounts):
    # The deposit follows the institution's scale (EscrowPolicy: 每生金额 × 学员规模, at
    # least the floor), so it falls short when the institution grows, too.
    yield from _short(
        accounts,
        lambda state, inst: (
            f"{inst.name}风险保证金 {state.have} 元，低于按在训学员"
            f"{inst.scale}人应缴的 {state.need} 元（{LEVEL_NAME[state.level]}）。"
        ),
    )


@register(
    "institutions.escrow.over_cap",
    title="一次收费超过3个月、60课时或5000元",
    severity=Finding.Severity.SERIOUS,
    over=lambda: Purchase.objects.all(),
)
def collection_over_cap(for_date, purchases):
    # The service refuses these; rows that got in another way (an import, the admin, a
    # cap lowered later) are found here. The SQL narrows, cap_problems decides.
    span = ExpressionWrapper(F("ends_on") - F("starts_on"), output_field=DurationField())
    suspects = purchases.annotate(span=span).filter(
        Q(amount__gt=Decimal(settings.ESCROW_MAX_AMOUNT))
        | Q(lessons__gt=settings.ESCROW_MAX_LESSONS)
        | Q(span__gt=dt.timedelta(days=28 * settings.ESCROW_MAX_MONTHS - 1))
    )
    for purchase in suspects.select_related("institution"):
        problems = escrow.cap_problems(
            lessons=purchase.lessons, amount=purchase.amount,
            starts_on=purchase.starts_on, ends_on=purchase.ends_on,
        )  # fmt: skip
        if problems:
            yield Found(
                subject=purchase,
                institution_id=purchase.institution_id,
                message=f"{purchase.institution.name}的{purchase}：" + "".join(problems.values()),
            )


@register(
    "institutions.escrow.ledger_unbalanced",
    title="托管资金记账借贷不平",
    severity=Finding.Severity.SERIOUS,
)
def ledger_unbalanced(for_date):
    for tx in ledger.unbalanced_transactions(EscrowTransaction):
        yield Found(
            subject=tx,
            institution_id=tx.institution_id,
            message=f"记账 #{tx.pk}（{tx.get_kind_display()}）的分录合计为 {tx.total or 0} 元，"
            "不为零，请核查数据库是否被绕过约束修改。",
        )
