"""Every form of the portal submitted as production runs it: outside the test transaction
(``transaction=True``: production has no ATOMIC_REQUESTS, so a write that audits outside
``transaction.atomic()`` is a 500 here as it is there).

The URLconf is walked whole: every named URL is either a POST route with a case in the
registry (tests/post_routes/) or listed in ``GET_ONLY`` with a reason, so a new form view
without a case fails ``test_every_post_route_has_a_case``. For each case:

- valid, as an allowed user: never a 500; the change is in the database, and its audit row
  where the action is audited;
- invalid, as the allowed user: a Chinese message on the page (or on the page the redirect
  leads to) and nothing written (the row count of every model of the project's apps, and
  the case's own state, are unchanged);
- valid, as each refused user: 403/404 (anonymous: the portal's login page) and nothing
  written.
"""

import inspect

import pytest
from django.apps import apps
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver

from portal.models import AuditLog
from tests.post_routes import REFUSERS, load

pytestmark = pytest.mark.django_db(transaction=True)

ENTRIES = load()

# Families of URLs that are not the project's forms, skipped with their reason.
SKIPPED = {
    "admin": "django admin's own patterns (/admin/): the admin classes call the services, "
    "and their writes are checked at the source by test_no_orm_writes_in_views.py",
    "set_language": "django.conf.urls.i18n: django's own view, writes only a cookie",
    "login": "django's LoginView: a session, no row of the project (throttled by axes, "
    "tested in tests/portal/test_security.py)",
    "logout": "django's LogoutView: ends the session, no row of the project",
}

# Named URLs that take no POST, each with its reason.
GET_ONLY = {
    "complaints:done": "shows the tracking code once after filing",
    "complaints:track": "the public tracking page (a GET form)",
    "complaints:mine": "a parent's own complaints",
    "complaints:staff_list": "the staff's list of complaints",
    "complaints:staff_detail": "one complaint (its actions post to staff_act / staff_contact)",
    "complaints:school_list": "a school's assigned complaints",
    "complaints:evidence": "serves a complaint's evidence file (uploads post to file / "
    "school_detail / staff_act)",
    "enforcement:notices": "the public list of 通报",
    "enforcement:notice": "one public 通报",
    "enforcement:institution": "an institution's enforcement record (its forms post to the "
    "enforcement routes with cases)",
    "enforcement:photo": "serves a visit photo to training staff",
    "home": "the landing page",
    "healthz": "reads the database and Redis",
    "ping": "the load benchmarks' baseline",
    "language": "shows the language choice; the form posts to django's set_language",
    "portal:me": "redirects a user to their part of the portal",
    "api-schema": "the OpenAPI schema (drf-spectacular, GET)",
    "api-institutions": "the public whitelist API, a ListAPIView (GET)",
    "dashboard:index": "bureau dashboard, a read",
    "dashboard:report": "monthly report as Excel, a read",
    "dashboard:findings": "the list of findings, a read",
    "portal:school_home": "a school's home page",
    "portal:school_class": "a class's pupils",
    "portal:school_findings": "a school's findings list",
    "portal:parent_home": "a parent's home page",
    "portal:child_detail": "a child's page",
    "portal:evidence": "serves an evidence file of a finding (uploads post to finding_detail)",
    "homework:classes": "a school's classes with their day's totals",
    "homework:week": "a class's week grid",
    "homework:poster": "the board's QR poster",
    "homework:qr": "the board's QR code (SVG)",
    "homework:daily": "假期作业天天清 list",
    "homework:grade_week": "a grade's week grid",
    "homework:survey_results": "a survey's results",
    "homework:monthly": "the monthly report",
    "homework:monthly_xlsx": "the monthly report as Excel",
    "homework:board": "the public class board",
    "homework:board_week": "the public class board's week",
    "afterschool:menu": "parents' course menu (enrol/withdraw/switch post elsewhere)",
    "afterschool:plans": "a school's plans",
    "afterschool:plan_review_list": "plans to review",
    "afterschool:rates": "participation and satisfaction rates",
    "afterschool:bills": "a parent's bills (paying posts to bill_pay)",
    "afterschool:receipt": "a payment's receipt",
    "afterschool:lessons": "a teacher's lessons",
    "afterschool:attendance": "a parent's attendance list",
    "afterschool:my_lessons": "a parent's lessons (leave posts to afterschool:leave)",
    "institutions:search": "the public whitelist search",
    "institutions:detail": "an institution's public page",
    "institutions:board": "the bureau's governance board",
    "institutions:template": "the import template (xlsx)",
    "institutions:export": "the register as xlsx (audited as a read: an export)",
    "institutions:escrow_index": "the escrow accounts",
    "institutions:escrow_account": "one account with its reconciliation",
    "institutions:escrow_statement_template": "the statement template (CSV)",
    "institutions:escrow_purchase": "one purchase (its actions post to escrow_purchase_action)",
    "cases:list": "the public case library",
    "cases:detail": "a published case",
    "cases:document": "a source document",
    "cases:mine": "a school's submitted cases",
    "cases:review_list": "cases to review",
    "pledge:campaign": "one campaign's progress (renewal posts to pledge:renew)",
    "pledge:mine": "a teacher's own letters",
    "pledge:print": "the printable signed record",
    "letter:sent": "the letters a side sent",
    "letter:detail": "one letter with its read rates",
    "letter:inbox": "a parent's letters",
    "letter:read": "a parent opens a letter (marks its notice read through letters.letter_open)",
    "training:my": "a parent's purchases (我的校外培训)",
    "training:purchase": "one purchase of a parent (its claims post to training:confirm / dispute)",
    "training:claims": "the institution's claims (the claim form posts to training:course_claim)",
    "org:home": "the institution's home page (机构工作台)",
    "org:courses": "the institution's courses (filings post to org:course_new / course_edit)",
    "org:accounts": "account requests (decisions post to request_decide / account_new)",
    "org:filings": "the bureau's queue of course filings (decisions post to filing_decide)",
    "draw:public_list": "the public list of draws (阳光分班公示)",
    "draw:public": "one draw's public result, names masked",
    "draw:json": "the published JSON for tools/verify_draw.py",
    "draw:index": "the draws of a school or of the bureau",
    "draw:detail": "one draw (its actions post to draw:list / publish / run / supersede)",
    "refunds:mine": "a parent's paid purchases and refund requests",
    "refunds:status": "a parent's refund request",
    "refunds:list": "the institution's refund requests (answers post to refunds:answer)",
    "refunds:bureau": "the bureau queue: refused and overdue requests, batch candidates",
    "refunds:batch_result": "a batch refund's result",
    "refunds:batch_excel": "a batch refund's result as Excel, a read",
    "sales:list": "the institution's sales (masked phones)",
    "sales:detail": "one sale with its contract (cancel posts to sales:cancel)",
    "sales:mine": "a parent's training purchases",
    "sales:pay": "the parent's payment page (transfer details; the sandbox posts to sales:sandbox)",
    "care:index": "the records a head teacher / principal / care staff may read",
    "care:detail": "one care record, its read audited (its forms post to edit/contact/close)",
    "care:staff": "the principal's list of care staff (forms post to staff_add/staff_remove)",
    "care:overview": "the bureau's counts per school",
    "designs:index": "the design library and its search",
    "designs:mine": "a teacher's own designs",
    "designs:queue": "designs awaiting the review group",
    "designs:detail": "one design (its forms post to review / share)",
    "designs:reviewers": "the principal's review group (forms post to reviewers_add/remove)",
    "designs:report": "designs per school and subject, share of homework drawn from designs",
    "fair:index": "the fairs a user may open (bureau: all; a school: its district's; an admitted "
    "provider: all)",
    "fair:detail": "one fair: the bureau's counts and buttons (post to fair:close / fair:match), "
    "a school's needs and matches, a provider's offers and matches",
    "fair:unmatched": "the bureau's unmatched needs per school of a fair, a read",
    "catalogue:packages": "the course packages a user's side sees (publishing posts to "
    "package_new)",
    "catalogue:package": "one package with its orders (its forms post to order_new / dispatch / "
    "withdraw)",
    "catalogue:orders": "the orders a user's side sees",
    "catalogue:order": "one order with its visits (its forms post to visit_new / visit_confirm)",
    "catalogue:localities": "the bureau's rural register (its buttons post to locality_set)",
    "catalogue:report": "pupils reached per venue and per school, a read",
    "catalogue:report_xlsx": "the same report as Excel, a read",
    "calls:index": "the public list of calls",
    "calls:detail": "one call's public page (its apply link goes to calls:apply)",
    "calls:result": "a published call's public result",
    "calls:document": "serves an application's document to the bureau, its organisation and the "
    "call's experts",
    "calls:org_home": "an organisation's own applications",
    "calls:org_application": "one own application (its scores after publication)",
    "calls:expert_home": "an expert's assigned applications",
    "calls:bureau_calls": "the bureau's list of calls",
    "calls:call_manage": "one call's ranking and panel (its forms post to call_assign / "
    "call_admit)",
    "calls:organisations": "the bureau's list of organisations (deactivation posts to "
    "organisation_deactivate)",
    "funding:index": "the bureau's monthly roll-up and its Excel download (subsidies are posted "
    "at funding:subsidy, pay reported at funding:pay)",
    "sites:index": "the bureau's register of community sites with their use (a list)",
    "sites:detail": "one site: checks, operators, courses (its forms post to check / operator_new "
    "/ active / operator_deactivate)",
    "sites:check_file": "a safety check's evidence file (a download)",
    "sites:mine": "the operator's own site and its courses",
    "sites:course": "one course of the operator's site: its roll and lessons (publish posts to "
    "course_publish)",
    "holiday:weeks": "a parent's holiday weeks to choose from (its buttons post to holiday:enrol "
    "/ holiday:withdraw)",
    "holiday:hosts": "the bureau's list of host sites and the table of places by host site and "
    "week",
    "holiday:host": "one host site (its buttons post to holiday:host_open / holiday:host_close)",
    "people:index": "the register of the user's school/site (bureau: all), a GET search form",
    "people:certificate": "a printable certificate of hours served in a term",
    "people:overview": "the bureau's view of the district's people by vetting state and hours",
    "lunch:index": "a school's months of lunch care and today's breaks to call the roll of",
    "lunch:month": "one month's pupils, waiting list and breaks (its forms post to change / "
    "staff_withdraw / roll)",
    "lunch:parent": "a parent's months of lunch care (its forms post to enrol / withdraw)",
    "lunch:report": "the monthly report of pupils per arrangement per school, a read",
    "lunch:report_xlsx": "the monthly report as Excel, a read",
}

PROJECT_APPS = [
    "portal", "institutions", "homework", "afterschool", "cases", "governance", "supply",
]  # fmt: skip


# --- the URLconf ---------------------------------------------------------------------------


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or ""
            full_ns = f"{namespace}:{ns}" if namespace and ns else ns or namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), full_ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), (f"{namespace}:{p.name}" if namespace else p.name), p


def _skipped_family(route: str, name: str | None) -> str | None:
    if route.startswith("admin/") or (name or "").startswith("admin:"):
        return "admin"
    if name in SKIPPED:
        return name
    return None


def project_routes() -> dict[str, URLPattern]:
    """Every named URL of the project, less the skipped families."""
    routes = {}
    for route, name, pattern in _walk(get_resolver().url_patterns):
        if _skipped_family(route, name):
            continue
        assert name, f"an unnamed URL pattern: {route} (name it, or the registry cannot see it)"
        routes[name] = pattern
    return routes


def test_every_post_route_has_a_case():
    routes = project_routes()
    with_case = {e.url_name for e in ENTRIES.values()}
    missing = sorted(set(routes) - with_case - set(GET_ONLY))
    assert not missing, f"URLs with neither a POST case nor a GET_ONLY reason: {missing}"
    assert not (with_case & set(GET_ONLY)), "a URL is both GET_ONLY and has a POST case"
    assert not (with_case - set(routes)), f"cases of unknown URLs: {with_case - set(routes)}"
    assert not (set(GET_ONLY) - set(routes)), f"stale GET_ONLY: {set(GET_ONLY) - set(routes)}"
    # every skipped family is still there (a stale reason is noise)
    seen = {_skipped_family(r, n) for r, n, _p in _walk(get_resolver().url_patterns)}
    assert set(SKIPPED) <= seen


def _source(view) -> str:
    parts = []
    while view is not None:
        try:
            parts.append(inspect.getsource(view))
        except (OSError, TypeError):
            pass
        view = getattr(view, "__wrapped__", None)
    return "\n".join(parts)


# what a view that takes a form has in its source (a page that only shows request.POST
# back, like afterschool:my_lessons after a refused leave, has none of these)
NEEDLES = ("request.method", "require_POST", "require_http_methods", "request.FILES",
           "request.POST.get", "request.POST[", "request.POST or None",
           "(request.POST")  # fmt: skip


def test_the_get_only_views_take_no_post():
    """A GET_ONLY reason that is false (the view reads request.POST) fails here."""
    routes = project_routes()
    for name in GET_ONLY:
        callback = routes[name].callback
        view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if view_class is not None:
            assert not hasattr(view_class, "post"), name
            continue
        source = _source(callback)
        assert source, f"cannot read the source of {name}"
        for needle in NEEDLES:
            assert needle not in source, f"{name} is GET_ONLY but its view has {needle}"


# --- the cases -----------------------------------------------------------------------------


def _params():
    out = []
    for key, entry in sorted(ENTRIES.items()):
        marks = []
        if entry.marks:
            reasons = "; ".join(f"{kind}: {reason}" for kind, reason in entry.marks.items())
            marks.append(pytest.mark.xfail(strict=True, reason=reasons))
        out.append(pytest.param(key, marks=marks, id=key))
    return out


def snapshot(ignore=frozenset()) -> dict[str, int]:
    """The row count of every model of the project's apps (and of the users)."""
    models = [m for label in PROJECT_APPS for m in apps.get_app_config(label).get_models()]
    models.append(apps.get_model("auth", "User"))
    return {
        m._meta.label: m._default_manager.count()
        for m in models
        if m._meta.label not in ignore and not m._meta.proxy
    }


def _login(client_for, user):
    return client_for(user)


def _post(client, c, which: str, *, follow=False):
    url = c.url if which == "valid" else (c.invalid_url or c.url)
    raw = c.raw if which == "valid" else c.invalid_raw
    if raw is not None:
        content_type, body, headers = raw
        return client.post(url, body, content_type=content_type, headers=headers, follow=follow)
    data = dict(c.valid if which == "valid" else c.invalid)
    files = c.files if which == "valid" else (c.invalid_files or None)
    if files:
        data.update(files())
    return client.post(url, data, follow=follow)


def _audits(prefix):
    return AuditLog.objects.filter(action__startswith=prefix).count() if prefix else 0


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # the personas' passwords are hashed on creation; Argon2 is the production hasher and
    # is tested elsewhere, here it would only slow every world down
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    # uploads a case stores (a finding's evidence files) go to a directory of the test
    settings.MEDIA_ROOT = tmp_path / "media"


def refused_phase(key, entry, c, world, client_for):
    """The valid submission as each refused user: 403/404 (anonymous: the login page)."""
    if not entry.refused:
        assert c.no_refused, f"{key}: name at least one refused user, or say why there is none"
        return
    login = resolve_url(settings.LOGIN_URL)
    for name in entry.refused:
        user = c.who[name] if name in c.who else REFUSERS[name](world)
        before, counts = c.state(), snapshot(c.ignore)
        response = _post(_login(client_for, user), c, "valid")
        if user is None:
            assert response.status_code == 302, (key, name, response.status_code)
            assert response["Location"].startswith(login), (key, name, response["Location"])
        else:
            assert response.status_code in (403, 404), (key, name, response.status_code)
        assert c.state() == before, f"{key}: refused {name} changed the state"
        assert snapshot(c.ignore) == counts, f"{key}: refused {name} wrote rows"


def invalid_phase(key, entry, c, world, client_for):
    """An invalid submission as the allowed user: a Chinese message, nothing written."""
    if c.invalid is None and c.invalid_raw is None:
        assert c.no_invalid, f"{key}: give an invalid submission, or say why there is none"
        return
    assert c.error and any("\u4e00" <= ch <= "\u9fff" for ch in c.error), key
    before, counts = c.state(), snapshot(c.ignore)
    response = _post(_login(client_for, c.user), c, "invalid", follow=c.raw is None)
    assert response.status_code < 500
    if c.raw is None:  # the form again (400: a rejected upload says so in its status too)
        assert response.status_code in (200, 400), (key, response.status_code)
    assert c.error in response.content.decode(), f"{key}: {c.error!r} not shown"
    assert c.state() == before, f"{key}: the invalid submission changed the state"
    assert snapshot(c.ignore) == counts, f"{key}: the invalid submission wrote rows"


def valid_phase(key, entry, c, world, client_for):
    """The valid submission as the allowed user: the change and its audit row."""
    assert c.audit or c.unaudited, f"{key}: say what the action audits, or why it does not"
    before, audits = c.state(), _audits(c.audit)
    response = _post(_login(client_for, c.user), c, "valid")
    assert response.status_code in (200, 302), (key, response.status_code)
    after = c.state()
    assert after != before, f"{key}: nothing changed ({before!r})"
    if c.audit:
        assert _audits(c.audit) > audits, f"{key}: no audit row {c.audit}*"


@pytest.mark.parametrize("key", _params())
def test_post_route(key, world, client_for):
    """Refused users, then an invalid submission, then the valid one, on one world (a
    transactional test's flush is what costs here). Each part is reported on its own."""
    entry = ENTRIES[key]
    c = entry.build(world)
    failures = []
    for phase in (refused_phase, invalid_phase, valid_phase):
        try:
            phase(key, entry, c, world, client_for)
        except Exception as exc:  # noqa: BLE001 - every part is reported, then the test fails
            failures.append(f"{phase.__name__}: {type(exc).__name__}: {exc}")
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)
