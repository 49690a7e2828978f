"""{% memo %}: a fragment rendered once per name, language and script prefix."""

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.test import override_settings
from django.utils import translation

from portal.templatetags import portal_tags

TEMPLATE = Template(
    "{% load i18n portal_tags %}"
    '{% memo "t" %}{{ counter.next }}·{% translate "登录" %}{% endmemo %}'
)


class Counter:
    def __init__(self):
        self.n = 0

    def next(self):
        self.n += 1
        return self.n


@pytest.fixture(autouse=True)
def empty():
    portal_tags._MEMO.clear()
    yield
    portal_tags._MEMO.clear()


def test_rendered_once_per_language():
    counter = Counter()
    with translation.override("zh-hans"):
        assert TEMPLATE.render(Context({"counter": counter})) == "1·登录"
        assert TEMPLATE.render(Context({"counter": counter})) == "1·登录"  # not rendered again
    with translation.override("en"):
        assert TEMPLATE.render(Context({"counter": counter})) == "2·Log in"
    assert counter.n == 2


def test_a_changed_setting_forgets_the_fragments():
    counter = Counter()
    TEMPLATE.render(Context({"counter": counter}))
    with override_settings(STATIC_URL="/elsewhere/"):
        TEMPLATE.render(Context({"counter": counter}))
    assert counter.n == 2


def test_the_memos_are_bounded(monkeypatch):
    monkeypatch.setattr(portal_tags, "_MEMO_LIMIT", 1)
    counter = Counter()
    with translation.override("zh-hans"):
        TEMPLATE.render(Context({"counter": counter}))
    with translation.override("en"):
        TEMPLATE.render(Context({"counter": counter}))
        TEMPLATE.render(Context({"counter": counter}))  # not kept: rendered each time
    assert counter.n == 3


@pytest.mark.parametrize("tag", ["{% memo %}", "{% memo t %}", '{% memo "a" "b" %}'])
def test_it_needs_one_quoted_name(tag):
    with pytest.raises(TemplateSyntaxError):
        Template("{% load portal_tags %}" + tag + "x{% endmemo %}")
