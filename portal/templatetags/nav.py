"""Links by role: a page shows a user only the links they may follow (issue 14).

The answer comes from the view itself, never from a second table of who may open what: the
URL is resolved, and the predicate that ``portal.permissions`` put in front of the view
(``bureau_required``, ``kind_required``, ``school_manager_required``) is asked about the user.
So a new page decorated the usual way is linked correctly without any change here, and a
link can never promise more than the view grants.

In templates::

    {% load nav %}
    {% may_url 'afterschool:fees' as fees_url %}
    {% if fees_url %}<a href="{{ fees_url }}">收费管理</a>{% endif %}

    {% first_may_url 'afterschool:menu' 'afterschool:offerings' as url %}

In Python: ``may_open(user, "/afterschool/review/plans/?status=draft")``.

What it cannot know (an object of another school, a check inside a view's body) is the crawl
test's job (tests/test_crawl.py). An anonymous user "may" open a page that only asks for a
login: following the link leads to the portal's login page, not to a refusal.
"""

from urllib.parse import urlsplit

from django import template
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

register = template.Library()

# the predicate a portal.permissions decorator wraps a view in (its closure variable)
_PERMISSION_WRAPPER = "_decorator.<locals>.decorator.<locals>.wrapped"


def _tests_of(func) -> list:
    """The permission predicates standing in front of a view function: the ``portal_test``
    attribute when the decorator sets one, else the ``test`` its closure holds."""
    tests = []
    seen = set()
    while func is not None and id(func) not in seen:
        seen.add(id(func))
        test = getattr(func, "portal_test", None)
        code = getattr(func, "__code__", None)
        if (
            test is None
            and code is not None
            # the code object's own name: functools.wraps renames the function, not its code
            and code.co_qualname == _PERMISSION_WRAPPER
            and func.__globals__.get("__name__") == "portal.permissions"
        ):
            cells = dict(zip(code.co_freevars, func.__closure__ or (), strict=True))
            test = cells["test"].cell_contents if "test" in cells else None
        if test is not None and test not in tests:
            tests.append(test)
        func = getattr(func, "__wrapped__", None)
    return tests


def may_open(user, url: str) -> bool:
    """Whether following ``url`` (a path on this site) would not be refused to ``user``.
    A path that resolves to no view is not a link to show."""
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return False
    tests = _tests_of(match.func)
    if not tests:
        return True
    if user is None or not user.is_authenticated:
        return True  # the view sends them to the portal's login page
    return all(test(user) for test in tests)


def _url(name, args) -> str:
    try:
        return reverse(name, args=args or None)
    except NoReverseMatch:
        return name if name.startswith("/") else ""


@register.simple_tag(takes_context=True)
def may_url(context, name, *args):
    """The URL of ``name`` (a URL name with its args, or a path) when the request's user may
    open it, else ""."""
    url = _url(name, args)
    user = getattr(context.get("request"), "user", None)
    return url if url and may_open(user, url) else ""


@register.simple_tag(takes_context=True)
def first_may_url(context, *names):
    """The first of ``names`` (URL names without args, or paths) the user may open, or ""."""
    user = getattr(context.get("request"), "user", None)
    for name in names:
        url = _url(name, ())
        if url and may_open(user, url):
            return url
    return ""


def strip_refused_links(user, panels) -> None:
    """Dashboard panels: a bar keeps its link only when the user may follow it (a panel of
    one line of work links to that line's pages, which staff of another line may not open)."""
    verdicts: dict[str, bool] = {}
    for p in panels:
        for s in p.series:
            for bar in s.bars:
                if not bar.url:
                    continue
                path = urlsplit(bar.url).path
                if path not in verdicts:
                    verdicts[path] = may_open(user, bar.url)
                if not verdicts[path]:
                    bar.url = ""
