"""Nightly checks of the sales (imported by institutions/checks.py).

- institutions.sale.money_to_return: a bank transfer with a sale's reference that was not
  booked as its payment (another amount, or the sale no longer awaiting payment: paid
  already, cancelled, lapsed) while its bank line is still open. The money is in the
  escrow account and must be handed back to the parent; the finding closes when bureau
  staff book the line (escrow.bank_line_book, e.g. "退回家长").
"""

from institutions.escrow_models import BankStatementLine
from institutions.sale_models import SaleNotice
from portal.compliance import Found, register
from portal.models import Finding

TO_RETURN = (SaleNotice.Outcome.MISMATCH, SaleNotice.Outcome.NOT_PAYABLE)


@register(
    "institutions.sale.money_to_return",
    title="预收费到账未入账、待退回",
    severity=Finding.Severity.WARNING,
)
def money_to_return(for_date):
    notices = list(
        SaleNotice.objects.filter(provider="transfer", outcome__in=TO_RETURN)
        .select_related("purchase__institution")
        .order_by("pk")
    )
    line_ids = {n.pk: int(n.event_id.split(":", 1)[1]) for n in notices}
    still_open = set(
        BankStatementLine.objects.filter(pk__in=line_ids.values())
        .exclude(match=BankStatementLine.Match.MATCHED)
        .values_list("pk", flat=True)
    )
    for notice in notices:
        if line_ids[notice.pk] not in still_open:
            continue
        purchase = notice.purchase
        yield Found(
            subject=notice,
            institution_id=purchase.institution_id,
            message=f"{purchase.institution.name}的监管账户收到预收费 #{purchase.pk} 的转账 "
            f"{notice.amount} 元，{notice.get_outcome_display()}；"
            "请退回家长后在对账页补记该笔流水。",
        )
