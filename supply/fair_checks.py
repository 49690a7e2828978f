"""Nightly check of the matching fair (双向选择会): a fair whose term has begun and that is
still not matched leaves schools without their courses; a finding of the 课后服务 line, one
per fair, resolved when the bureau runs the matching (or once the term has ended)."""

from portal.compliance import Found, register
from portal.models import Finding
from supply.fair_models import Fair


@register(
    "supply.fair.unmatched_after_start",
    title="学期已开始，双向选择会仍未匹配",
    severity=Finding.Severity.WARNING,
    over=lambda: Fair.objects.all(),
)
def not_matched(for_date, fairs):
    rows = fairs.exclude(status=Fair.Status.MATCHED).filter(
        term__start__lte=for_date, term__end__gte=for_date
    )
    for fair in rows.select_related("term"):
        yield Found(
            subject=fair,
            message=f"“{fair.name}”所在学期已于{fair.term.start}开始，仍未进行匹配"
            f"（当前：{fair.get_status_display()}），学校的课后服务需求尚无着落。",
        )
