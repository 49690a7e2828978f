"""The public search's name index (issue 20): institutions_namegram, kept by triggers on the
institution table, read by selectors.public_search_page for a name of two characters or
more; the count stops at COUNT_CAP ("超过 1000 家")."""

import pytest
from django.db import connection
from django.urls import reverse

from institutions import search, selectors
from institutions.models import Institution, NameGram
from tests.factories import DistrictFactory, InstitutionFactory, _credit_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def district(db):
    return DistrictFactory()


def make_institution(name, district=None):
    return InstitutionFactory(name=name, **({"district": district} if district else {}))


def grams_of(inst):
    return set(NameGram.objects.filter(institution=inst).values_list("gram", "name"))


def test_the_pieces_follow_the_name_whatever_writes_it(db):
    inst = make_institution(name="启航 English培训")
    assert grams_of(inst) == {(g, inst.name) for g in search.grams(inst.name)}
    assert "en" in {g for g, _ in grams_of(inst)} and " e" not in {g for g, _ in grams_of(inst)}
    # a rename through the ORM, then through raw SQL: the pieces replaced
    Institution.objects.filter(pk=inst.pk).update(name="博雅书法")
    assert {g for g, _ in grams_of(inst)} == {"博雅", "雅书", "书法"}
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE institutions_institution SET name = '阳光篮球' WHERE id = %s", [inst.pk]
        )
    assert grams_of(inst) == {("阳光", "阳光篮球"), ("光篮", "阳光篮球"), ("篮球", "阳光篮球")}
    # another column changed: nothing rewritten (the row trigger fires on a new name only)
    before = set(NameGram.objects.filter(institution=inst).values_list("pk", flat=True))
    Institution.objects.filter(pk=inst.pk).update(address="别处")
    assert set(NameGram.objects.filter(institution=inst).values_list("pk", flat=True)) == before
    inst.delete()
    assert not NameGram.objects.filter(institution_id=inst.pk).exists()


def test_a_bulk_insert_adds_every_row_s_pieces(district):
    make_institution(name="甲", district=district)
    made = Institution.objects.bulk_create(
        [
            Institution(name=f"第{n}号英语中心", credit_code=_credit_code(900000 + n),
                        category="non_subject", district=district)
            for n in range(3)
        ]
    )  # fmt: skip
    for inst in made:
        assert grams_of(inst) == {(g, inst.name) for g in search.grams(inst.name)}
    # a one-character name has no piece
    assert not NameGram.objects.filter(name="甲").exists()


def names(page):
    return [r["name"] for r in page.rows]


QUERIES = [
    "英语",
    "启航英语",
    "english",
    "ENGLISH 培",
    "阳 光",
    "50%",
    "a_b",
    "语启",
    "不存在的机构",
]


@pytest.mark.parametrize("q", QUERIES)
def test_the_index_answers_as_the_orm_search_does(district, q):
    for name in ["启航英语", "启航英语学校", "英语启航", "阳光English培训", "阳光english培训部",
                 "满50%返现英语", "a_b英语", "axb英语", "阳光篮球", "语启"]:  # fmt: skip
        make_institution(name=name, district=district)
    # what the search means: the name contains the query without its spaces (any case for
    # Latin letters), in the register's order
    text = search.squeeze(q)
    lookup = (
        "name__icontains" if any(c.isascii() and c.isalpha() for c in text) else "name__contains"
    )
    expected = list(
        Institution.objects.filter(**{lookup: text})
        .order_by("name", "id")
        .values_list("name", flat=True)
    )
    assert expected or q == "不存在的机构"
    page = selectors.public_search_page(q=q, per_page=50)
    assert names(page) == expected
    assert (page.count, page.capped) == (len(expected), False)


def test_the_count_stops_at_the_cap_and_the_pages_go_on(district, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 4)
    for n in range(4):
        make_institution(name=f"英语{n}", district=district)
    page = selectors.public_search_page(q="英语", per_page=2)
    assert (page.count, page.capped, page.num_pages, page.has_next) == (4, False, 2, True)
    last = selectors.public_search_page(q="英语", page=2, per_page=2)
    assert (names(last), last.has_next) == (["英语2", "英语3"], False)
    make_institution(name="英语4", district=district)  # one more than the cap
    page = selectors.public_search_page(q="英语", per_page=2)
    assert (page.count, page.capped, page.has_next) == (4, True, True)
    # a page beyond the cap is still served, its count reaching it
    third = selectors.public_search_page(q="英语", page=3, per_page=2)
    assert (names(third), third.count, third.capped, third.has_next) == (["英语4"], 5, False, False)
    # past the last: the last page (clamp), or nothing
    assert names(selectors.public_search_page(q="英语", page=9, per_page=2)) == ["英语4"]
    assert names(selectors.public_search_page(q="英语", page=9, per_page=2, clamp=False)) == []


def test_the_page_and_the_api_say_the_count_was_capped(client, district, monkeypatch):
    from institutions import views

    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    monkeypatch.setattr(views, "PER_PAGE", 1)
    for n in range(3):
        make_institution(name=f"书法{n}", district=district)
    html = client.get(reverse("institutions:search"), {"q": "书法"}).content.decode()
    assert "超过 2 家机构" in html and "1 / 2+" in html
    from institutions import api

    monkeypatch.setattr(api.SearchPagination, "page_size", 1)
    data = client.get("/api/institutions/", {"q": "书法"}).json()
    assert (data["count"], data["count_capped"], len(data["results"])) == (2, True, 1)
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    html = client.get(reverse("institutions:search"), {"q": "书法"}).content.decode()
    assert "共 3 家机构" in html and "超过" not in html


def test_a_filter_with_a_name_reads_the_institution(district):
    make_institution(name="英语甲")  # another district
    b = make_institution(name="英语乙", district=district)
    page = selectors.public_search_page(q="英语", district=district.pk)
    assert (names(page), page.count) == ([b.name], 1)
    page = selectors.public_search_page(q="英语", category="no_such")
    assert (names(page), page.count) == ([], 0)


def test_without_a_name_the_register_s_order_and_the_same_cap(district, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    for name in ["丙", "甲", "乙机构"]:
        make_institution(name=name, district=district)
    expected = list(Institution.objects.order_by("name", "id").values_list("name", flat=True))
    page = selectors.public_search_page(per_page=1)
    assert (names(page), page.count, page.capped, page.has_next) == (expected[:1], 2, True, True)
    page = selectors.public_search_page(per_page=3)
    assert (names(page), page.count, page.capped) == (expected, 3, False)
    # a one-character name: a LIKE on each, the same order and cap
    page = selectors.public_search_page(q="乙", per_page=5)
    assert (names(page), page.count, page.capped) == (["乙机构"], 1, False)
