"""Nightly checks of 消课 claims (imported by institutions/checks.py).

- institutions.claim.many_disputes: an institution whose parents disputed many of the
  lessons it claimed in the last DISPUTE_WINDOW_DAYS days (at least DISPUTE_MIN disputes and
  DISPUTE_SHARE_PERCENT % of its answered claims): lessons claimed that were not given are
  the first sign of 卷钱跑路, so the training line looks at the institution. The numbers are
  the portal's (no national figure); the finding closes when the share falls.
The rule's first part routes it to the training line's staff.
"""

import datetime as dt

from django.db.models import Count, Q

from institutions.claim_models import LessonClaim
from institutions.models import Institution
from portal.compliance import Found, register
from portal.models import Finding

DISPUTE_WINDOW_DAYS = 30
DISPUTE_MIN = 5
DISPUTE_SHARE_PERCENT = 20
S = LessonClaim.Status


@register(
    "institutions.claim.many_disputes",
    title="家长对消课异议较多的机构",
    severity=Finding.Severity.WARNING,
)
def many_disputes(for_date):
    since = for_date - dt.timedelta(days=DISPUTE_WINDOW_DAYS)
    rows = (
        LessonClaim.objects.filter(date__gt=since, date__lte=for_date)
        .exclude(status=S.PENDING)
        .values("purchase__institution_id")
        .annotate(answered=Count("pk"), disputed=Count("pk", filter=Q(status=S.DISPUTED)))
        .filter(disputed__gte=DISPUTE_MIN)
        .order_by("purchase__institution_id")
    )
    found = [r for r in rows if r["disputed"] * 100 >= DISPUTE_SHARE_PERCENT * r["answered"]]
    names = Institution.objects.in_bulk([r["purchase__institution_id"] for r in found])
    for r in found:
        inst = names[r["purchase__institution_id"]]
        yield Found(
            subject=inst,
            institution_id=inst.pk,
            message=f"{inst.name}近{DISPUTE_WINDOW_DAYS}天登记的消课中，家长答复{r['answered']}节，"
            f"其中有异议{r['disputed']}节（{r['disputed'] * 100 // r['answered']}%），请核查是否"
            "虚报消课。",
        )
