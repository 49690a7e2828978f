import pytest
from django.urls import reverse

from cases import search
from cases.selectors import public_search, years

pytestmark = pytest.mark.django_db

# (query, a phrase the first result's title must contain)
RELEVANCE = [
    ("预收费资金监管", "预收费全额资金监管"),
    ("泥塑", "泥塑"),
    ("AI批改", "AI批改"),
    ("困境儿童", "困境儿童"),
    ("教师承诺制", "承诺制"),
    ("均衡分班", "阳光均衡分班"),
    ("劳动教育", "劳动教育"),
    ("西城区课后服务", "北京市西城区"),
    ("午休", "午休"),
    ("作业设计 精细化", "精细化"),
    ("科学教育", "科学教育"),
]


@pytest.mark.parametrize("query, expected", RELEVANCE)
def test_the_expected_case_comes_first(seeded, query, expected):
    results, mode = public_search(q=query)
    first = results.first()
    assert first is not None, query
    assert expected in first.title, [c.title for c in results[:3]]


def test_every_word_must_match_before_any_word_may(seeded):
    results, mode = public_search(q="泥塑 非遗")
    assert mode == "and" and results.count() == 1
    results, mode = public_search(q="泥塑 宇宙飞船")
    assert mode == "or" and results.count() >= 1


def test_filters_by_theme_place_and_year(seeded):
    by_theme, _ = public_search(theme="关爱帮扶")
    assert by_theme.count() >= 2 and all("关爱帮扶" in c.themes for c in by_theme)
    by_place, _ = public_search(place="番禺区")
    assert by_place.count() == 6
    # moe's notice is dated 2021-09-17; Guangzhou's batch reports 2021年11月 as its latest
    # date and Yunnan's 2023年春季学期: the filter offers the years the texts give
    assert years() == [2023, 2021]
    assert public_search(year=2021)[0].count() == 10 + 32
    assert public_search(year=2023)[0].count() == 25
    combined, _ = public_search(q="作业", place="重庆")
    assert [c.title for c in combined] == ["重庆市分学科精细化指导作业设计与实施"]


def test_a_query_of_punctuation_finds_nothing_without_error(seeded):
    results, mode = public_search(q="，。！")
    assert results.count() == 0 and mode == ""


def test_snippets_mark_the_words_and_escape_the_text():
    html = search.snippet("学校<b>推行</b>课后服务全覆盖，做法如下。", "课后服务")
    assert "<mark>课后服务</mark>" in html and "&lt;b&gt;" in html and "<b>" not in html


def test_the_search_page_is_public_and_highlights(seeded, client):
    response = client.get(reverse("cases:list"), {"q": "泥塑"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<mark>泥塑</mark>" in html
    assert "共 1 个案例" in html


def test_a_case_page_shows_its_source_and_related_cases(seeded, client):
    from cases.models import Case

    case = Case.objects.get(title__contains="午休由")
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "广州市第二批" in html
    assert "相关案例" in html and "平躺睡" in html  # another 午休 case


def test_the_search_page_runs_a_fixed_number_of_queries(seeded, client, django_assert_num_queries):
    # years for the filter, count, ranked ids (BM25 in one statement), the page's rows
    with django_assert_num_queries(4):
        client.get(reverse("cases:list"), {"q": "课后服务"})
    # two words: first whether any case has both (AND, else OR)
    with django_assert_num_queries(5):
        client.get(reverse("cases:list"), {"q": "课后服务 午休"})
    with django_assert_num_queries(3):
        client.get(reverse("cases:list"))


def test_a_themes_name_finds_the_cases_filed_under_it(seeded):
    results, mode = public_search(q="课后服务 午休")
    assert mode == "and"
    titles = [c.title for c in results[0:10]]
    assert len(titles) == 3 and all("午休" in t or "睡" in t for t in titles)
