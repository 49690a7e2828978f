"""Every link a user is shown can be followed: a crawl of the demo district, user by user.

Issue 14: a new user clicking around met refusals (403) behind links the portal itself showed
them. This test loads the demo (every app's ``demo.load_demo``, through ``load_demo``), then
for each demo account (portal/demo.py's STAFF, BUREAU and PARENTS) and for an anonymous
visitor starts from ``/`` and the user's own home page, and follows every ``<a href>`` found
in the HTML, breadth-first, with GET only, on the same host. It fails listing
(user, page, link, status) for each link that answered 403, 500 or 404, or that sent a
signed-in user to a login page.

Nothing here names a page of an app: a new app's pages are met by following links, so adding
pages needs no change to the crawl (only a new kind of *exception* below would).

What it does not follow, and why:
- ``/logout/`` (a POST form anyway; a link would end the session mid-crawl), ``/i18n/``
  (Django's language switch, POST only) and the ``/language/`` page is followed once,
  without its ``?next=`` (which differs on every page and would crawl it once per page).
- ``/admin/`` beyond the admin index: Django's admin is one app with its own permission
  system (a model a user may not change is not linked there); its index is followed, to
  prove each staff user may open it, its hundreds of change lists are not.
- A link answered with a file (Excel, an evidence download) is fetched, its status checked,
  and not parsed.
- Pages of one shape (the path with its ids, dates and tokens replaced, the query string
  ignored: /homework/classes/7/week/2026-11-30/ and every other week and class, or the
  filters of one list) are one view, sampled on the first ``PER_SHAPE`` met breadth-first:
  the week and day pages link on forever, and a few hundred institutions would cost a
  minute each user without testing another view. At most ``CAP`` pages per user.

No 404 is allowed: every link the portal prints must lead somewhere (``ALLOWED_404`` is
empty; a documented exception would go there with its reason).

transaction=False: the crawl only reads, so it runs in the test's transaction with the demo
loaded in it, and all is rolled back at the end.
"""

import re
import time
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from portal import demo

CAP = 400  # pages per user at most
PER_SHAPE = 8  # pages of one shape (see shape()) per user at most
WORD = re.compile(r"[a-z][a-z_-]*|")
HOST = "testserver"
# (path prefix, reason): a 404 behind such a link is expected (none so far)
ALLOWED_404: list[tuple[str, str]] = []
# never followed (see the module's docstring)
SKIP_PREFIXES = ("/logout/", "/i18n/", "/static/", "/media/")
ADMIN = "/admin/"
LOGIN_PATHS = ("/login/", "/admin/login/")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def links_of(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


def normalise(base: str, href: str) -> str | None:
    """The same-host path?query that ``href`` on page ``base`` leads to, or None when it is
    not one the crawl follows."""
    href = href.strip()
    if href.startswith(("mailto:", "tel:", "javascript:", "data:")):
        return None
    url, _ = urldefrag(urljoin(f"http://{HOST}{base}", href))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc != HOST:
        return None
    path = parts.path or "/"
    if path.startswith(SKIP_PREFIXES):
        return None
    if path.startswith(ADMIN):
        return ADMIN  # the admin index only
    if path == "/language/":
        return path  # once, without ?next=
    return f"{path}?{parts.query}" if parts.query else path


def shape(url: str) -> str:
    """The view a URL shows: its path with every segment that is not a lowercase word (an
    id, a date, a board's token) as "*", the query string dropped.
    /homework/classes/7/week/2026-11-30/?x=1 -> /homework/classes/*/week/*/"""
    return "/".join(part if WORD.fullmatch(part) else "*" for part in urlsplit(url).path.split("/"))


def home_pages(client) -> list[str]:
    """``/`` and where the portal sends this user after login (portal:me)."""
    start = ["/"]
    response = client.get("/me/")
    if response.status_code == 302:
        start.append(response["Location"])
    return start


def crawl(client, *, signed_in: bool):
    """Breadth-first from the user's home pages. Returns (pages fetched, failures)."""
    queue = deque((None, url) for url in home_pages(client))
    seen = {url for _, url in queue}
    per_shape: dict[str, int] = {}
    failures = []
    fetched = 0
    while queue and fetched < CAP:
        page, url = queue.popleft()
        response = client.get(url)
        fetched += 1
        hops, current = 0, url
        while response.status_code in (301, 302, 303, 307, 308) and hops < 5:
            parts = urlsplit(urljoin(f"http://{HOST}{current}", response["Location"]))
            if parts.netloc != HOST:
                break
            to = parts.path
            # a signed-in user sent to a login page, or anyone to the admin's login from
            # outside the admin, is a refusal in disguise
            if (signed_in and to in LOGIN_PATHS) or (
                to == "/admin/login/" and not url.startswith(ADMIN)
            ):
                failures.append((page, url, f"→ {to}"))
                break
            current = f"{to}?{parts.query}" if parts.query else to
            response = client.get(current)
            hops += 1
        status = response.status_code
        if status in (403, 500) or (
            status == 404 and not any(url.startswith(p) for p, _ in ALLOWED_404)
        ):
            failures.append((page, url, status))
            continue
        if status != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        if url == ADMIN:
            continue  # the admin index, not beyond
        for href in links_of(response.content.decode()):
            target = normalise(url, href)
            if target is None or target in seen:
                continue
            key = shape(target)
            if per_shape.get(key, 0) >= PER_SHAPE:
                continue
            per_shape[key] = per_shape.get(key, 0) + 1
            seen.add(target)
            queue.append((url, target))
    return fetched, failures


def demo_users() -> list[str | None]:
    return (
        [name for name, *_ in demo.STAFF]
        + [name for name, *_ in demo.BUREAU]
        + [name for name, *_ in demo.PARENTS]
        # the kinds bound to one object: a community site's operator, organisations (a
        # provider, a venue) and an expert of the pool (afterschool/sites_demo.py, supply/)
        + ["jigou_admin", "shequ_xingfu", "org_yangguang", "org_bowuguan", "zhuanjia_zhou"]
        + [None]
    )


@pytest.mark.django_db(transaction=False)
def test_every_link_a_demo_user_is_shown_can_be_followed(capsys):
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    User = get_user_model()
    failures = []
    report = []
    started = time.monotonic()
    for username in demo_users():
        client = Client()
        if username is not None:
            client.force_login(User.objects.get(username=username))
        t0 = time.monotonic()
        fetched, failed = crawl(client, signed_in=username is not None)
        report.append(f"{username or 'anonymous'}: {fetched} pages, {time.monotonic() - t0:.1f}s")
        failures += [(username or "anonymous", *f) for f in failed]
    with capsys.disabled():
        print(f"\ncrawl: {time.monotonic() - started:.1f}s; " + "; ".join(report))
    assert not failures, "links that fail (user, page, link, status):\n" + "\n".join(
        f"  {user}  {page}  {link}  {status}" for user, page, link, status in failures
    )
