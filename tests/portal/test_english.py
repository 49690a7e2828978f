"""In English (the language switch, or the browser's language), the public pages show no
Chinese but the data itself: the choice labels (categories, subjects, states, themes) and
the pages' fixed text come from locale/en."""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import translation

from institutions.models import SUBJECT_CHOICES, Institution
from tests.factories import DistrictFactory
from tests.institutions.helpers import make_institution, training_staff

pytestmark = pytest.mark.django_db

CHINESE_RUN = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")
SHOWN_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}


class _Text(HTMLParser):
    """What a reader sees: text outside script/style, and the attributes a browser shows."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        self.parts += [v for k, v in attrs if k in SHOWN_ATTRIBUTES and v]
        if tag == "input" and dict(attrs).get("type") == "submit" and dict(attrs).get("value"):
            self.parts.append(dict(attrs)["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def shown_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(parser.parts)


# The language switch names each language in itself, on purpose: a reader who cannot read
# the page's language still finds the way back.
SELF_NAMED = ["语言 / Language", "简体中文"]


def chinese_left(html: str, data: list[str]) -> list[str]:
    """The Chinese runs of the page once the data (names typed by people) is taken out."""
    text = shown_text(html)
    for value in sorted([*data, *SELF_NAMED], key=len, reverse=True):
        text = text.replace(value, " ")
    return CHINESE_RUN.findall(text)


def english(client, url):
    """The page as the language switch leaves it: the language cookie set to English."""
    client.cookies["django_language"] = "en"
    response = client.get(url)
    assert response.status_code == 200
    assert '<html lang="en">' in response.content.decode()
    return response.content.decode()


@pytest.fixture
def listed(db):
    district = DistrictFactory(name="海珠区")
    staff = training_staff()
    subject = make_institution(staff, district, name="明德学科培训学校", address="海珠路1号")
    other = make_institution(
        staff,
        district,
        name="星光艺术培训中心",
        category=Institution.Category.NON_SUBJECT,
        subjects=["文化艺术", "体育"],
        address="江南大道2号",
    )
    return {"district": district, "subject": subject, "other": other}


def test_every_subject_category_and_state_has_english_words():
    with translation.override("en"):
        labels = [str(label) for _value, label in SUBJECT_CHOICES]
        labels += [str(c.label) for c in Institution.Category]
        labels += [str(g.label) for g in Institution.Governance]
        labels += [str(c.label) for c in Institution.Mode]
    missing = [label for label in labels if CHINESE_RUN.search(label)]
    assert not missing, missing
    with translation.override("zh-hans"):
        assert str(dict(SUBJECT_CHOICES)["数学"]) == "数学"  # the Chinese stays Chinese


def test_the_whitelist_search_form_offers_categories_and_subjects_in_english(client, listed):
    html = english(client, reverse("institutions:search"))
    options = re.findall(r"<option[^>]*>([^<]*)</option>", html)
    assert "Mathematics" in options and "Culture and arts" in options
    assert "Subject-type" in options and "Non-subject-type" in options
    chinese_options = [o for o in options if CHINESE_RUN.search(o) and o != "海珠区"]
    assert not chinese_options, chinese_options
    form_labels = re.findall(r"<label[^>]*>([^<]*)</label>", html)
    assert form_labels and not [t for t in form_labels if CHINESE_RUN.search(t)], form_labels


def test_the_subjects_of_an_institution_read_in_the_readers_language(listed):
    with translation.override("en"):
        assert listed["other"].subject_labels == ["Culture and arts", "Sports"]
    with translation.override("zh-hans"):
        assert listed["other"].subject_labels == ["文化艺术", "体育"]


def test_the_whitelist_search_page_in_english_has_no_chinese_but_the_data(client, listed):
    html = english(client, reverse("institutions:search"))
    data = [
        "明德学科培训学校",
        "星光艺术培训中心",
        "海珠区",
        "海珠路1号",
        "江南大道2号",
    ]
    # the search form's choices (categories, subjects) are in English
    assert "Mathematics" in html and "Culture and arts" in html
    assert "Subject-type" in html
    left = chinese_left(html, data)
    assert not left, f"Chinese on the English search page: {sorted(set(left))}"


def test_the_institution_page_in_english_shows_category_and_mode_in_english(client, listed):
    html = english(client, reverse("institutions:detail", args=[listed["subject"].pk]))
    assert "Subject-type · Offline" in html


def test_the_institution_page_in_english_has_no_chinese_but_the_data(client, listed):
    html = english(client, reverse("institutions:detail", args=[listed["subject"].pk]))
    data = ["明德学科培训学校", "海珠区", "海珠路1号", "教民1234号", "工商银行"]
    left = chinese_left(html, data)
    assert not left, f"Chinese on the English institution page: {sorted(set(left))}"


def test_the_case_list_in_english_shows_its_fixed_text_in_english(client):
    html = english(client, reverse("cases:list"))
    left = chinese_left(html, [])
    assert not left, f"Chinese on the English case list: {sorted(set(left))}"


def test_a_case_page_in_english_shows_its_theme_and_fixed_text_in_english(client):
    from cases.models import Case
    from cases.services import document_import
    from tests.cases.conftest import SEED_FILES, seed_text

    document_import(text=seed_text(SEED_FILES[0]), filename=SEED_FILES[0])
    case = Case.objects.filter(status=Case.Status.PUBLISHED).first() or Case.objects.first()
    html = english(client, reverse("cases:detail", args=[case.pk]))
    # the cases' own text is data (this one's and the related ones' the page lists);
    # everything else must be English
    data = []
    for row in Case.objects.all():
        data += [row.title, row.raw, row.place, row.unit, row.province, row.city, row.district]
        data += [line for line in row.body.splitlines() if line.strip()]
    if case.source is not None:
        data += [case.source.title, case.source.issuer, case.source.doc_number]
    left = chinese_left(html, [d for d in data if d])
    assert not left, f"Chinese on the English case page: {sorted(set(left))}"
