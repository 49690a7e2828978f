"""Reads of the institution's side (机构端) and of the bureau's queues of accounts and course
filings. An institution's reads go through portal.access.scope (its own rows only)."""

from django.db.models import Exists, OuterRef, Prefetch

from institutions import colour, enforcement_selectors, escrow, search
from institutions.account_models import AccountRequest, InstitutionStaff
from institutions.accounts import selling_refusal
from institutions.escrow_models import EscrowPolicy, ReleaseKind, ReleaseRule
from institutions.models import Course, CourseSlot, Institution, SupervisedAccount
from portal.access import scope


def institution_of(user) -> Institution:
    """The user's own institution (an institution's staff)."""
    return Institution.objects.select_related("district").get(
        pk=user.institution_staff.institution_id
    )


def courses_for(user):
    """The institution's courses with their slots, newest filing first."""
    return (
        scope(Course.objects.all(), user)
        .prefetch_related(Prefetch("slots", queryset=CourseSlot.objects.order_by("weekday")))
        .order_by("-active", "filing", "name", "pk")
    )


def staff_for(user):
    return scope(InstitutionStaff.objects.select_related("user"), user).order_by(
        "-active", "role", "name", "pk"
    )


def release_terms(institution: Institution) -> dict:
    """What the release rule will pay when: the institution's own ReleaseRule, else the
    bureau's default (EscrowPolicy), in words."""
    rule = ReleaseRule.objects.filter(institution=institution).first()
    source = rule or EscrowPolicy.current()
    kind = rule.kind if rule else source.release_kind
    t1, t2 = source.tranche_1_percent.normalize(), source.tranche_2_percent.normalize()
    if kind == ReleaseKind.PER_LESSON:
        text = "家长确认一节课（消课）后，释放该节课的费用。"
    elif kind == ReleaseKind.TRANCHES:
        text = (
            f"家长确认的课时达到 1/3 时释放 {t1}%，达到 2/3 时再释放 {t2}%，"
            "结课时释放其余部分（不超过已确认课时的费用）。"
        )
    else:
        text = f"结课后 {source.delay_days} 天，释放家长已确认课时的费用。"
    return {
        "label": ReleaseKind(kind).label,
        "text": text + "有争议的订单暂停释放，直至争议处理完毕。",
        "own": rule is not None,
    }


def home(user) -> dict:
    """What the institution's home page (机构工作台) shows."""
    institution = institution_of(user)
    account = SupervisedAccount.objects.filter(institution=institution, active=True).first()
    money = None
    if account is not None and account.kind == SupervisedAccount.Kind.ESCROW:
        ids = [institution.pk]
        money = {
            "balance": escrow.escrow_balances(ids)[institution.pk],
            "unconsumed": escrow.unconsumed_values(ids)[institution.pk],
        }
    me = user.institution_staff
    verdict = colour.verdict(institution)
    return {
        "institution": institution,
        "me_staff": me,
        "verdict": verdict,
        "refusal": selling_refusal(institution, verdict=verdict),
        "record": enforcement_selectors.institution_record(institution.pk),
        "courses": list(courses_for(user)),
        "staff": list(staff_for(user)) if me.role == InstitutionStaff.Role.ADMIN else None,
        "account": account,
        "money": money,
        "release": release_terms(institution),
    }


# --- the bureau's queues -------------------------------------------------------------------


def open_requests():
    return (
        AccountRequest.objects.filter(status=AccountRequest.Status.OPEN)
        .select_related("institution__district")
        .order_by("created_at", "pk")
    )


def recent_requests(limit: int = 20):
    return (
        AccountRequest.objects.exclude(status=AccountRequest.Status.OPEN)
        .select_related("institution", "decided_by")
        .order_by("-decided_at", "-pk")[:limit]
    )


def institutions_for_accounts(q: str, limit: int = 20):
    """Institutions matching ``q`` (partial name), each with whether it has a 管理员."""
    admin = InstitutionStaff.objects.filter(
        institution=OuterRef("pk"), role=InstitutionStaff.Role.ADMIN, active=True
    )
    qs = Institution.objects.select_related("district").annotate(has_admin=Exists(admin))
    return search.matching(qs, q).order_by("name", "pk")[:limit]


def filings():
    """Courses waiting for the bureau (待备案), the oldest filing first."""
    return (
        Course.objects.filter(filing=Course.Filing.SUBMITTED)
        .select_related("institution__district")
        .prefetch_related("slots")
        .order_by("filed_at", "pk")
    )


def filing(pk: int) -> Course:
    return (
        Course.objects.select_related("institution__district").prefetch_related("slots").get(pk=pk)
    )


# The summaries of the other sides of the escrow on the institution's home page: sales,
# claims of lessons (消课) and refunds, each the module's org_summary (label, value, url).
PANELS = (
    ("销售与收费", "institutions.sale_selectors"),
    ("消课与家长确认", "institutions.claim_selectors"),
    ("退费申请", "institutions.refund_selectors"),
)


def panels(user, institution) -> list[dict]:
    """Each panel's rows as (label, value, url), the url kept only where ``user`` may open
    it (a 财务 is not sent to the claims a 教务 records)."""
    from importlib import import_module

    from django.utils.translation import gettext

    from portal.templatetags.nav import may_open

    out = []
    for title, module in PANELS:
        rows = [
            (gettext(label), value, url if url and may_open(user, url) else "")
            for label, value, url in import_module(module).org_summary(institution)
        ]
        out.append({"title": gettext(title), "rows": rows})
    return out
