"""Dashboard panel of the institution's side (机构端), imported by institutions/dashboard.py:
what waits for the training line (account requests, course filings) and how many
institutions have an account. Two queries whatever the district's size."""

from django.db.models import Count, Exists, OuterRef, Q

from institutions.account_models import AccountRequest, InstitutionStaff
from institutions.models import Course, Institution
from portal.dashboard import Bar, Filters, Panel, Series, panel

ACCOUNTS_URL = "/org/bureau/accounts/"
FILINGS_URL = "/org/bureau/filings/"


# kept (portal.dashboard): every course of the district (40,000 in a large one); the queues
# themselves are live on their pages, which the bars link to
@panel("institutions.org_queues", title="机构端：账号申请与课程备案", line="institutions",
       order=30, kept=True)  # fmt: skip
def org_queues(f: Filters) -> Panel:
    F = Course.Filing
    courses = Course.objects.filter(institution__district=f.district).aggregate(
        submitted=Count("pk", filter=Q(filing=F.SUBMITTED)),
        returned=Count("pk", filter=Q(filing=F.RETURNED)),
        approved=Count("pk", filter=Q(filing=F.APPROVED, active=True)),
    )
    staffed = InstitutionStaff.objects.filter(institution=OuterRef("pk"), active=True)
    institutions = Institution.objects.filter(district=f.district).aggregate(
        with_account=Count("pk", distinct=True, filter=Q(Exists(staffed))),
        requests=Count(
            "account_requests", distinct=True,
            filter=Q(account_requests__status=AccountRequest.Status.OPEN),
        ),
    )  # fmt: skip
    bars = [
        Bar("待处理的账号申请", institutions["requests"], ACCOUNTS_URL),
        Bar("待备案的课程", courses["submitted"], FILINGS_URL),
        Bar("退回待修改的课程", courses["returned"], FILINGS_URL),
    ]
    return Panel(
        title="", series=[Series("件数", bars)], unit="件",
        figures=[("已开通机构账号", str(institutions["with_account"])),
                 ("已备案在售课程", str(courses["approved"]))],
    )  # fmt: skip
