"""No 500 for any input: every GET route of the URLconf fed hostile values, as each persona.

The URLconf is walked whole (the walker of tests/test_post_routes.py). For every route:

- its path parameters are replaced, one at a time, by hostile values (non-numeric and huge
  ids, NUL, a 10 KB string, out-of-range dates), the others kept valid (``VALID_KWARGS``);
- on the route with valid path parameters, a probe request records which query parameters
  the view reads (``QueryDict`` is watched during the request); each of them, and each of a
  set of common names (``NAMES``), is then sent every hostile value (``QUERY_VALUES``) on
  its own, and all of them at once;

as anonymous, a parent, a teacher, a principal, bureau staff of each line and the superuser.
Any 500 (an exception escaping the view) is collected, and the test fails once per persona
listing every URL that raised. A 400 must say what was wrong in Chinese (portal/params.py).

The admin's own patterns (/admin/) are left to Django (its changelists turn unknown lookups
into ``?e=1``); the project's admin classes are covered by tests/portal/test_edges_admin.py.
"""

import datetime as dt
import functools
import logging
import re
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.handlers.base import BaseHandler
from django.http import Http404, QueryDict
from django.shortcuts import resolve_url
from django.test import Client, RequestFactory
from django.urls import URLPattern, get_resolver

from homework import selectors as homework_selectors
from portal import params as portal_params
from portal.models import SchoolClass, SchoolPeriod
from tests.factories import UserFactory
from tests.test_post_routes import _walk

pytestmark = pytest.mark.django_db

TEN_KB = "甲" * 3414  # 10 KB in UTF-8
HUGE = "99999999999999999999"  # above bigint

# query values: dates the calendar cannot judge (within the range), out-of-range and
# malformed dates and months, non-numeric, negative, zero and
# huge ids, NUL bytes, a 10 KB string, an unknown choice
QUERY_VALUES = [
    "2099-12-31", "2000-01-01", "9999-12-31", "0001-01-01", "2026-02-30", "9999-12", "abc",
    "-1", HUGE, "1\x00", TEN_KB, "NaN",
]  # fmt: skip
# all names at once (for what the probe did not see read): one value of each kind
COMBINED_VALUES = ["9999-12-31", "0001-01-01", "abc", "-1", HUGE, TEN_KB]

# common parameter names, sent even when the probe does not see them read
NAMES = [
    "date", "month", "week", "district", "school", "class", "q", "page", "status", "line",
    "kind", "year", "grade", "term", "from", "to", "start", "end", "on", "level", "category",
    "severity", "workflow", "rule", "age", "all", "format", "next", "child", "offering",
    "institution", "course", "lesson", "stage", "topic", "sort", "id",
]  # fmt: skip

# path values: per converter
PATH_VALUES = {
    "int": ["0", HUGE, "9223372036854775808", "abc"],
    "str": ["a%00b", TEN_KB, "2099-12-31", "9999-12-31", "0001-01-01", "abc"],
    "slug": ["a%00b", TEN_KB, "abc"],
    "path": ["a%00b", TEN_KB, "abc"],
}

# routes not fed: django's views that take no GET
SKIP = {"logout", "set_language"}

# --- the world: a valid object for each route's path parameters ------------------------------


def _valid_kwargs(w):
    """route name -> its valid path parameters (the other routes get pk=1 / "x"); a term
    and a vacation of the district, so that term pages read their parameters."""
    for kind, start, end in (("term", "2026-03-01", "2026-07-03"), ("summer", "2026-07-04",
                             "2026-08-31"), ("term", "2026-09-01", "2027-01-22")):  # fmt: skip
        SchoolPeriod.objects.create(
            district=w.school_a.district, kind=kind, name=f"{kind} {start}", start=start, end=end
        )
    board = homework_selectors.board_for(w.class_a)
    return {
        "homework:week": {"pk": w.class_a.pk, "date": "2026-09-07"},
        "homework:day": {"pk": w.class_a.pk, "date": "2026-09-07"},
        "homework:grade_week": {"grade": 3, "date": "2026-09-07"},
        "homework:poster": {"pk": w.class_a.pk},
        "homework:qr": {"pk": w.class_a.pk},
        "homework:daily": {"pk": w.class_a.pk},
        "homework:board": {"token": board.token},
        "homework:board_week": {"token": board.token},
        "portal:school_class": {"pk": w.class_a.pk},
        "portal:child_detail": {"pk": w.child_a.pk},
        "dashboard:report": {"line": "homework"},
        "afterschool:notify": {"provider": "sandbox"},
    }


def _staff_of(group, username):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


PERSONAS = {
    "anonymous": lambda w: None,
    "parent": lambda w: w.parent_a,
    "teacher": lambda w: w.teacher_a,
    "principal": lambda w: w.principal_a,
    "bureau_homework": lambda w: w.bureau,
    "bureau_afterschool": lambda w: _staff_of("课后服务", "h_as"),
    "bureau_training": lambda w: _staff_of("校外培训", "h_training"),
    "bureau_cases": lambda w: _staff_of("案例库", "h_cases"),
    "superuser": lambda w: UserFactory(username="h_root", is_staff=True, is_superuser=True),
}

# --- which query parameters a view reads ---------------------------------------------------

_READ: set[str] = set()
_IN_VIEW = [False]


@pytest.fixture
def watch_query(monkeypatch):
    """Record every key the view looks up in a QueryDict (request.GET, a bound form's data)
    while the view runs (middleware such as axes reads every key: not a parameter read)."""
    # not getlist: lists() calls it for every key
    originals = {n: getattr(QueryDict, n) for n in ("get", "__getitem__", "__contains__")}

    def watched(name):
        original = originals[name]

        def method(self, key, *args, **kwargs):
            if _IN_VIEW[0] and isinstance(key, str):
                _READ.add(key)
            return original(self, key, *args, **kwargs)

        return method

    for name in originals:
        monkeypatch.setattr(QueryDict, name, watched(name))
    make_view_atomic = BaseHandler.make_view_atomic

    def watching_view(self, view):
        atomic_view = make_view_atomic(self, view)

        @functools.wraps(atomic_view)
        def run(*args, **kwargs):
            _IN_VIEW[0] = True
            try:
                return atomic_view(*args, **kwargs)
            finally:
                _IN_VIEW[0] = False

        return run

    monkeypatch.setattr(BaseHandler, "make_view_atomic", watching_view)
    yield _READ
    _READ.clear()


# --- the routes ----------------------------------------------------------------------------

PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")


def get_routes():
    """(name, route, converters {param: converter}) of every project route but /admin/."""
    out = []
    for route, name, pattern in _walk(get_resolver().url_patterns):
        if route.startswith("admin/") or name in SKIP:
            continue
        assert isinstance(pattern, URLPattern)
        assert "(?P" not in route, f"{name}: a regex route, teach this test its parameters"
        params = {m["name"]: m["conv"] or "str" for m in PARAM.finditer(route)}
        out.append((name, route, params))
    return out


def _build(route, values):
    return "/" + PARAM.sub(lambda m: values[m["name"]], route)


def _default(conv):
    return "1" if conv == "int" else "x"


def test_every_converter_has_hostile_values():
    for name, _route, params in get_routes():
        for conv in params.values():
            assert conv in PATH_VALUES, f"{name}: no hostile values for <{conv}:…>"


class Sweep:
    def __init__(self, client):
        self.client = client
        self.failures: list[str] = []
        self.bad_requests: list[str] = []
        self.count = 0

    def get(self, url, query=None):
        self.count += 1
        full = url + ("?" + urlencode(query) if query else "")
        try:
            response = self.client.get(full)
        except Exception as exc:  # noqa: BLE001 - every 500 is collected, then reported
            self.failures.append(f"{_short(full)}  ->  {type(exc).__name__}: {_short(str(exc))}")
            return None
        if response.status_code >= 500 and response.status_code != 503:
            self.failures.append(f"{_short(full)}  ->  {response.status_code}")
        elif response.status_code == 400 and not _chinese(response):
            self.bad_requests.append(_short(full))
        return response


def _refused(response):
    """A 403/405, or anonymous sent to the login page: the view read no parameter (a 404
    may come after a parameter was read: the settlement's ``?term=``)."""
    if response is None:
        return False
    if response.status_code in (403, 405):
        return True
    return response.status_code == 302 and response["Location"].startswith(
        resolve_url(settings.LOGIN_URL)
    )


def _short(text, limit=160):
    text = text.replace("\x00", "\\x00")
    return text if len(text) <= limit else text[:limit] + f"…({len(text)} chars)"


def _chinese(response):
    body = b"".join(response) if response.streaming else response.content
    return any("\u4e00" <= ch <= "\u9fff" for ch in body.decode(errors="replace"))


@pytest.fixture(autouse=True)
def _quiet(settings):
    """Fast passwords, and no log line for each of the thousands of 403/404/400s."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    logging.disable(logging.CRITICAL)
    yield
    logging.disable(logging.NOTSET)


def _sweep(sweep, routes, valid, watch_query):
    """Feed every route its hostile path and query values; returns {route: keys read}."""
    reads = {}
    for name, route, params in routes:
        good = {p: str(valid.get(name, {}).get(p, _default(c))) for p, c in params.items()}
        # hostile path parameters, one at a time
        for param, conv in params.items():
            for value in PATH_VALUES[conv]:
                path_value = value if "%" in value else quote(value)
                sweep.get(_build(route, {**good, param: path_value}))
        url = _build(route, good)
        # which query parameters does the view read? (with none, and with all names set)
        watch_query.clear()
        probe = sweep.get(url)
        if _refused(probe):
            continue  # the view stops at the door: its query parameters are never read
        sweep.get(url, {n: "1" for n in NAMES})
        read = reads[name] = set(watch_query)
        for key in sorted(read):
            for value in QUERY_VALUES:
                sweep.get(url, {key: value})
        for value in COMBINED_VALUES:
            sweep.get(url, {n: value for n in sorted(read | set(NAMES))})
    return reads


def _report(sweep, who):
    assert not sweep.failures, (
        f"{len(sweep.failures)} of {sweep.count} requests as {who} raised:\n"
        + "\n".join(sweep.failures)
    )
    assert not sweep.bad_requests, "400 without a Chinese message:\n" + "\n".join(
        sweep.bad_requests
    )


# what the probe must see read, per persona (the watcher works, the world reaches the views)
EXPECTED_READS = {
    "anonymous": {"homework:board": {"date"}, "homework:board_week": {"date"},
                  "institutions:search": {"q", "district", "page"}},
    "principal": {"homework:classes": {"date", "grade"}, "homework:monthly": {"month"},
                  "homework:daily": {"from", "to"}, "afterschool:settlement": {"term"}},
    "bureau_homework": {"dashboard:index": {"district", "month"},
                        "dashboard:findings": {"district", "on", "rule"},
                        "homework:monthly": {"district", "school", "month"}},
    "bureau_afterschool": {"afterschool:rates": {"start", "end"},
                           "afterschool:plan_review_list": {"status"}},
    "bureau_training": {"institutions:board": {"district", "category"}},
    "superuser": {"institutions:escrow_index": {"level"}},
}  # fmt: skip


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_no_500_for_hostile_get(persona, world, watch_query):
    user = PERSONAS[persona](world)
    valid = _valid_kwargs(world)
    client = Client()
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    sweep = Sweep(client)
    reads = _sweep(sweep, get_routes(), valid, watch_query)
    for name, keys in EXPECTED_READS.get(persona, {}).items():
        assert keys <= reads.get(name, set()), (name, reads.get(name))
    assert sweep.count > 300
    _report(sweep, persona)


def admin_routes():
    """The admin's patterns (django's own views over the project's admin classes)."""
    out = []
    for route, name, pattern in _walk(get_resolver().url_patterns):
        if not route.startswith("admin/"):
            continue
        regex = str(pattern.pattern)
        # the admin's few regex patterns (app index, the catch-all): fed as they are
        if "(?P" in regex or "^" in route:
            continue
        params = {m["name"]: m["conv"] or "str" for m in PARAM.finditer(route)}
        out.append((name, route, params))
    return out


def test_no_500_for_hostile_get_in_the_admin(world, watch_query):
    """The superuser in the admin: changelists with hostile filters, hostile object ids."""
    client = Client()
    client.force_login(UserFactory(username="h_root", is_staff=True, is_superuser=True),
                       backend="django.contrib.auth.backends.ModelBackend")  # fmt: skip
    sweep = Sweep(client)
    routes = admin_routes()
    assert len(routes) > 100
    for name, route, params in routes:
        good = {p: _default(c) for p, c in params.items()}
        for param, conv in params.items():
            for value in PATH_VALUES[conv][:3]:
                sweep.get(_build(route, {**good, param: value if "%" in value else quote(value)}))
        if name.endswith("_changelist"):
            url = _build(route, good)
            for value in ("abc", "9999-12-31", HUGE, TEN_KB):
                sweep.get(url, {"q": value, "o": value, "p": value, "e": value})
    _report(sweep, "superuser in the admin")


# --- what the pages answer -------------------------------------------------------------------


def _text(response):
    return response.content.decode()


@pytest.mark.parametrize(
    "query, words",
    [
        ("date=9999-12-31", "日期须在 2000-01-01 至 2099-12-31 之间"),
        ("date=0001-01-01", "日期须在"),
        ("date=2026-02-30", "日期格式应为"),
        ("date=abc", "参数 date 无效"),
    ],
)
def test_the_public_board_answers_a_bad_date_with_a_chinese_400(world, client, query, words):
    board = homework_selectors.board_for(world.class_a)
    response = client.get(f"/h/{board.token}/?{query}")
    assert response.status_code == 400
    assert words in _text(response)
    assert client.get(f"/h/{board.token}/week/?{query}").status_code == 400
    assert client.get(f"/h/{board.token}/?date=2026-09-07").status_code == 200


def test_a_nul_byte_anywhere_is_a_400(world, client):
    board = homework_selectors.board_for(world.class_a)
    for url in ("/h/%00/", f"/h/{board.token}/?date=%00", "/institutions/?q=a%00b"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "不能包含空字符" in _text(response), url


def test_a_bad_date_in_the_path_is_a_404(world, client_for):
    client = client_for(world.principal_a)
    url = f"/homework/classes/{world.class_a.pk}/week/%s/"
    assert client.get(url % "2026-09-07").status_code == 200
    for bad in ("9999-12-31", "0001-01-01", "2026-02-30", "abc"):
        assert client.get(url % bad).status_code == 404, bad


@pytest.mark.parametrize(
    "path", ["/dashboard/", "/dashboard/findings/", "/homework/monthly/", "/institutions/board/"]
)
def test_a_district_that_is_no_id_is_a_400(world, client_for, superuser, path):
    client = client_for(superuser)
    assert client.get(path).status_code == 200
    for bad in ("abc", "-1", "0", HUGE):
        response = client.get(path, {"district": bad})
        assert response.status_code == 400, (path, bad)
        assert "参数 district 无效" in _text(response)


def test_out_of_range_months_and_dates_on_staff_pages_are_400(world, client_for, superuser):
    client = client_for(superuser)
    for path, query in [
        ("/dashboard/", {"month": "9999-12"}),
        ("/dashboard/", {"month": "2026-13"}),
        ("/homework/monthly/", {"month": "0001-01"}),
        ("/dashboard/findings/", {"on": "9999-12-31"}),
        ("/dashboard/findings/", {"rule": "x" * 101}),
        ("/afterschool/review/rates/", {"start": "0001-01-01", "end": "2026-01-01"}),
        ("/afterschool/review/plans/", {"status": "nope"}),
        ("/institutions/staff/escrow/", {"level": "purple"}),
    ]:
        response = client.get(path, query)
        assert response.status_code == 400, (path, query, response.status_code)
        assert "无效" in _text(response)
    assert client.get("/dashboard/", {"month": "2026-09"}).status_code == 200


# --- the helpers' bounds ---------------------------------------------------------------------


def _request(**query):
    return RequestFactory().get("/", query)


def test_the_helpers_bounds():
    assert portal_params.query_date(_request(date="2000-01-01")) == dt.date(2000, 1, 1)
    assert portal_params.query_date(_request(date="2099-12-31")) == dt.date(2099, 12, 31)
    assert portal_params.query_date(_request(), default="d") == "d"
    assert portal_params.query_date(_request(date="  ")) is None
    for bad in ("1999-12-31", "2100-01-01", "2026-1-1", "20260901", "2026-09-01T00:00"):
        with pytest.raises(portal_params.BadParameter, match="参数 date 无效"):
            portal_params.query_date(_request(date=bad))
    assert portal_params.query_month(_request(month="2099-12")) == "2099-12"
    for bad in ("2100-01", "1999-12", "2026-00", "2026-13", "2026-1"):
        with pytest.raises(portal_params.BadParameter):
            portal_params.query_month(_request(month=bad))
    assert (
        portal_params.query_id(_request(id=str(portal_params.ID_MAX)), "id") == portal_params.ID_MAX
    )
    for bad in (str(portal_params.ID_MAX + 1), "0", "-1", "1.0", "١", "abc"):
        with pytest.raises(portal_params.BadParameter, match="整数"):
            portal_params.query_id(_request(id=bad), "id")
    assert portal_params.query_choice(_request(s="a"), "s", [("a", "A")]) == "a"
    with pytest.raises(portal_params.BadParameter, match="不是可选的值"):
        portal_params.query_choice(_request(s="b"), "s", [("a", "A")])
    assert portal_params.query_text(_request(q="x" * 5), max_length=5) == "x" * 5
    with pytest.raises(portal_params.BadParameter, match="不能超过 5 个字符"):
        portal_params.query_text(_request(q="x" * 6), max_length=5)
    with pytest.raises(portal_params.BadParameter, match="空字符"):
        portal_params.query_text(_request(q="a\x00"))
    with pytest.raises(Http404):
        portal_params.path_date("2100-01-01")


def test_form_fields_take_their_models_max_length_with_a_chinese_message():
    from homework.forms import HomeworkForm, InspectionForm, SurveyForm
    from homework.models import HomeworkItem, Survey

    layer = HomeworkForm.base_fields["layer"]
    assert layer.max_length == HomeworkItem._meta.get_field("layer").max_length
    title = SurveyForm.base_fields["title"]
    assert title.max_length == Survey._meta.get_field("title").max_length
    form = HomeworkForm(data={"subject": "语文", "content": "读", "written": "1",
                              "layer": "x" * (layer.max_length + 1)})  # fmt: skip
    assert "分层不超过20个字。" in form.errors["layer"]
    form = InspectionForm(
        data={"date": "2026-09-07", "summary": "x" * 5001}, classes=SchoolClass.objects.none()
    )
    assert "检查情况不超过5000字。" in form.errors["summary"]
