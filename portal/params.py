"""Query and path parameters, parsed in one place: no input anyone can type reaches the ORM
or the calendar unchecked, and none of it is a 500.

What a view gets back is either a value of the right type within its range, the default
(parameter absent or empty), or an error page in Chinese that names the parameter:

- a **query parameter** (``?date=…``) that is malformed, out of range or not one of its
  choices is a **400** (``BadParameter``, a ``django.core.exceptions.BadRequest``): the page
  exists, the request is wrong. ``bad_request`` (``handler400`` in portal/urls.py) shows the
  message on templates/400.html;
- a **path parameter** (``/classes/<pk>/<date>/``) that does not parse is a **404**
  (``Http404``): the URL names something that does not exist.

Dates lie within ``DATE_MIN``–``DATE_MAX``: the calendar (portal/schoolcalendar.py) knows
statutory holidays from 2004 (chinesecalendar) and later years as staff enter them
(``CalendarYear.year`` is a small integer); a week grid or a month report moves a few weeks
around the date, so the bounds leave room on both sides and ``date ± 1 year`` never leaves
Python's date range. A date inside the bounds whose year the calendar does not know is the
calendar's ``CalendarUnknownDay``, which the pages already show as a message.

Ids in the query are positive integers within PostgreSQL's ``bigint`` (the portal's ids are
BigAutoField; ``ID_MAX``). Ids in the path come through ``<int:pk>`` (digits only); one beyond
``bigint`` matches no row in Django 5's integer lookups, so it is the page's usual 404
(tests/test_hostile_get.py sends them). Text is at most ``max_length`` characters (the model
field's, where there is one) and never holds a NUL byte, which PostgreSQL refuses in a text
value.

``RejectNulMiddleware`` answers 400 to any request whose path or query string holds a NUL
byte, before a view or the public page cache sees it: a ``<str:token>`` path parameter or a
search box bound to ``request.GET`` would otherwise hand it to PostgreSQL.
"""

import datetime as dt
import re

from django.core.exceptions import BadRequest
from django.http import Http404, HttpResponseBadRequest
from django.template import loader

DATE_MIN = dt.date(2000, 1, 1)
DATE_MAX = dt.date(2099, 12, 31)
ID_MAX = 2**63 - 1  # PostgreSQL bigint (BigAutoField)
TEXT_MAX = 200  # a free-text query parameter without a model field behind it

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DIGITS = re.compile(r"^[0-9]{1,19}$")


class BadParameter(BadRequest):
    """A query parameter that is not what the page takes: a 400 naming it, in Chinese."""

    def __init__(self, name: str, problem: str):
        self.name = name
        super().__init__(f"参数 {name} 无效：{problem}")


def _raw(request, name: str, data=None) -> str | None:
    """The parameter's value (of ``data``, default request.GET), stripped; None when absent
    or empty."""
    value = (request.GET if data is None else data).get(name)
    if value is None:
        return None
    if "\x00" in value:
        raise BadParameter(name, "不能包含空字符。")
    value = value.strip()
    return value or None


def _range_text() -> str:
    return f"日期须在 {DATE_MIN.isoformat()} 至 {DATE_MAX.isoformat()} 之间"


def parse_date(value: str) -> dt.date:
    """``YYYY-MM-DD`` within DATE_MIN–DATE_MAX, else ValueError with a Chinese message."""
    if len(value) != 10:
        raise ValueError(f"日期格式应为 年-月-日（如 2026-09-01），{_range_text()}。")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"日期格式应为 年-月-日（如 2026-09-01），{_range_text()}。") from None
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValueError(f"{_range_text()}。")
    return day


def parse_month(value: str) -> str:
    """``YYYY-MM`` within the date range, else ValueError with a Chinese message."""
    match = _MONTH.match(value)
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValueError("月份格式应为 年-月（如 2026-09）。")
    if not DATE_MIN.year <= int(match[1]) <= DATE_MAX.year:
        raise ValueError(f"月份须在 {DATE_MIN.year} 年至 {DATE_MAX.year} 年之间。")
    return value


def query_date(request, name: str = "date", default=None):
    """A date query parameter; absent/empty → ``default``; otherwise 400."""
    value = _raw(request, name)
    if value is None:
        return default
    try:
        return parse_date(value)
    except ValueError as exc:
        raise BadParameter(name, str(exc)) from None


def query_month(request, name: str = "month", default=None):
    """A ``YYYY-MM`` query parameter (returned as the string); absent → default; else 400."""
    value = _raw(request, name)
    if value is None:
        return default
    try:
        return parse_month(value)
    except ValueError as exc:
        raise BadParameter(name, str(exc)) from None


def query_int(
    request, name: str, *, default=None, min_value: int = 1, max_value: int = ID_MAX, data=None
):
    """An integer query parameter within [min_value, max_value]; absent → default; else 400.
    ``data=request.POST`` reads a posted field by the same rules."""
    value = _raw(request, name, data)
    if value is None:
        return default
    if not _DIGITS.match(value) or not min_value <= int(value) <= max_value:
        raise BadParameter(name, f"应为 {min_value} 至 {max_value} 之间的整数。")
    return int(value)


def query_id(request, name: str, default=None, *, data=None):
    """An id (a positive integer within bigint) in the query (or ``data``, e.g.
    request.POST); absent → default; else 400."""
    return query_int(request, name, default=default, data=data)


def query_choice(request, name: str, choices, default=None):
    """One of ``choices`` (values, or (value, label) pairs); absent → default; else 400."""
    value = _raw(request, name)
    if value is None:
        return default
    values = [c[0] if isinstance(c, (tuple, list)) else c for c in choices]
    if value not in [str(v) for v in values]:
        raise BadParameter(name, "不是可选的值。")
    return value


def query_text(request, name: str = "q", *, max_length: int = TEXT_MAX, default=""):
    """Free text of at most ``max_length`` characters, no NUL; absent → default; else 400."""
    value = _raw(request, name)
    if value is None:
        return default
    if len(value) > max_length:
        raise BadParameter(name, f"不能超过 {max_length} 个字符。")
    return value


def path_date(value: str) -> dt.date:
    """A date in the URL's path: malformed or out of range → 404."""
    try:
        return parse_date(value)
    except ValueError as exc:
        raise Http404(str(exc)) from None


# --- the 400 page ------------------------------------------------------------------------


def bad_request(request, exception=None, template_name="400.html"):
    """``handler400``: the Chinese 400 page, with the parameter's message when we raised it
    (a ``BadParameter``); other causes (e.g. a disallowed host) say nothing specific."""
    message = str(exception) if isinstance(exception, BadParameter) else ""
    body = loader.get_template(template_name).render({"message": message}, request)
    return HttpResponseBadRequest(body)


class RejectNulMiddleware:
    """A NUL byte in the path or the query string is a 400, before any view or cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw_query = request.META.get("QUERY_STRING", "")
        if (
            "\x00" in request.path
            or "%00" in raw_query
            or "\x00" in raw_query
            or any("\x00" in key or "\x00" in v for key, v in _items(request.GET))
        ):
            return bad_request(request, BadParameter("URL", "不能包含空字符。"))
        return self.get_response(request)


def _items(query):
    for key, values in query.lists():
        for value in values:
            yield key, value
