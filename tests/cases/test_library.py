"""Issue 14 part 6: the import's limits and duplicates, speeches, themes, years, query words,
pagination links and labels of the case library."""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases import search
from cases.models import Case, CaseTerm, SourceDocument
from cases.parsing import NotACollection, content_hash, infer_themes, infer_year, title_year
from cases.selectors import public_search
from cases.services import document_import
from portal.models import AuditLog
from tests.cases.conftest import seed_text

pytestmark = pytest.mark.django_db

# a collection of speeches (经验交流发言) without numbers, and an interview whose speakers take
# turns: written for these tests in the shapes the seeds' README describes
HERE = Path(__file__).resolve().parent
SPEECHES = (HERE / "speeches.txt").read_text(encoding="utf-8")
INTERVIEW = (HERE / "interview.txt").read_text(encoding="utf-8")


def _tiles(document: SourceDocument) -> bool:
    pieces = [(c.start, c.end) for c in document.cases.all()] + [
        tuple(span) for span in document.preface_spans
    ]
    position = 0
    for start, end in sorted(pieces):
        if start != position:
            return False
        position = end
    return position == len(document.original)


# --- size limit ---------------------------------------------------------------------------


def test_a_collection_over_the_size_limit_is_refused_naming_the_limit(settings):
    text = seed_text("moe-2021-37.txt")
    size = len(text.encode("utf-8"))
    settings.PORTAL_CASES_IMPORT_MAX_BYTES = size - 1
    with pytest.raises(NotACollection) as refused:
        document_import(text=text, filename="moe.txt")
    assert "超过导入上限" in str(refused.value) and "PORTAL_CASES_IMPORT_MAX_BYTES" in str(
        refused.value
    )
    assert not SourceDocument.objects.exists() and not Case.objects.exists()
    settings.PORTAL_CASES_IMPORT_MAX_BYTES = size  # at the limit: accepted
    assert document_import(text=text, filename="moe.txt").cases == 10


def test_the_default_limit_is_two_megabytes():
    from django.conf import settings

    assert settings.PORTAL_CASES_IMPORT_MAX_BYTES == 2 * 1024 * 1024


def test_an_upload_over_the_limit_is_refused_at_the_field(superuser, client, settings):
    settings.PORTAL_CASES_IMPORT_MAX_BYTES = 1024
    client.force_login(superuser, backend="django.contrib.auth.backends.ModelBackend")
    data = seed_text("moe-2021-37.txt").encode()
    response = client.post(
        reverse("admin:cases_sourcedocument_import"),
        {"file": SimpleUploadedFile("big.txt", data, content_type="text/plain")},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "未导入" in html and "超过导入上限 1 KB" in html
    assert not SourceDocument.objects.exists()


# --- duplicates ---------------------------------------------------------------------------


def test_cases_already_in_the_library_are_skipped_and_named():
    text = seed_text("moe-2021-37.txt")
    document_import(text=text, filename="moe.txt")
    # the same collection, another extraction: other spaces and one case with a new sentence
    changed = text.replace("。", "。 ", 3).replace(
        "第三方调查评估结果显示", "第三方调查评估（新增一句）结果显示", 1
    )
    assert changed != text
    result = document_import(text=changed, filename="moe-again.txt")
    assert result.created and result.cases == 1 and len(result.skipped) == 9
    assert "辽宁省实行中小学教师“双减”工作承诺制" in result.skipped
    assert Case.objects.count() == 11
    document = result.document
    assert _tiles(document)  # the skipped cases' text is kept in the preface
    assert "辽宁省实行中小学教师" in document.preface
    log = AuditLog.objects.get(action="cases.document.imported", object_id=str(document.pk))
    assert len(log.new["skipped"]) == 9


def test_a_collection_with_nothing_new_is_refused_with_the_names():
    text = seed_text("moe-2021-37.txt")
    document_import(text=text, filename="moe.txt")
    with pytest.raises(NotACollection) as refused:
        document_import(text=text.replace("。", "。\u3000"), filename="copy.txt")
    assert "都已在案例库中" in str(refused.value) and "重庆市分学科" in str(refused.value)
    assert SourceDocument.objects.count() == 1 and Case.objects.count() == 10


def test_a_collection_pasted_three_times_imports_each_case_once():
    text = seed_text("guangzhou-batch2.txt")
    result = document_import(text=text * 3, filename="thrice.txt")
    # the last case of a copy runs on into the next copy's title lines (nothing marks where
    # it ends), so it differs from the last case of the last copy: 32 + 1, not 96
    assert result.cases == 33 and len(result.skipped) == 63
    assert Case.objects.values("title").distinct().count() == 32
    assert _tiles(result.document)


def test_the_hash_ignores_layout_but_not_words():
    assert content_hash("一是 挂图作战，定期督战。") == content_hash("一是挂图作战,定期督战 ")
    assert content_hash("一是挂图作战") != content_hash("二是挂图作战")


def test_a_school_cannot_submit_a_case_already_in_the_library(world, client_for):
    moe = document_import(text=seed_text("moe-2021-37.txt"), filename="moe.txt")
    existing = moe.document.cases.get(position=9)
    client = client_for(world.principal_a)
    response = client.post(
        reverse("cases:submit"),
        {"title": "照抄的案例", "themes": ["作业管理"], "body": existing.body},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "案例库中已有正文相同的案例" in html and "照抄的案例" in html  # what was typed
    assert Case.objects.filter(school__isnull=False).count() == 0


# --- speeches ---------------------------------------------------------------------------


def test_speeches_by_named_speakers_become_one_case_each():
    result = document_import(text=SPEECHES, filename="speeches.txt")
    cases = list(result.document.cases.order_by("position"))
    assert [c.unit for c in cases] == ["白云区教育局", "天河区奥体东小学", "番禺区洛浦中学"]
    assert cases[0].title.startswith("白云区教育局局长 张三：")
    assert cases[1].themes[0] == "课后服务"
    assert all(c.year == 2022 for c in cases)  # the signature's date
    assert _tiles(result.document)


def test_an_interview_whose_speakers_take_turns_is_refused_with_the_reason():
    with pytest.raises(NotACollection) as refused:
        document_import(text=INTERVIEW, filename="interview.txt")
    assert "访谈" in str(refused.value) and "多次发言" in str(refused.value)
    assert not SourceDocument.objects.exists()


# --- themes -------------------------------------------------------------------------------


def test_every_theme_the_rules_find_is_kept_the_section_first(seeded):
    case = Case.objects.get(source__filename="guangzhou-batch2.txt", position=27)
    assert case.themes[0] == "综合" and len(case.themes) > 1
    second = case.themes[1]
    found, _ = public_search(theme=second)
    assert case.pk in {c.pk for c in found}
    section = Case.objects.get(source__filename="guangzhou-batch2.txt", position=2)
    assert section.themes[0] == "校外培训治理" and section.theme_source == "section"


def test_infer_themes_keeps_the_lead_and_adds_the_strong_ones():
    text = "开展科普活动，组织机器人比赛。课后服务开设科技社团，课后服务全覆盖，托管到18:30。"
    assert set(infer_themes(text)[:2]) == {"科学教育", "课后服务"}
    assert infer_themes(text, first="作业管理")[0] == "作业管理"
    assert infer_themes("没有任何主题词的一段话。") == ["综合"]


# --- years --------------------------------------------------------------------------------


def test_the_year_is_the_latest_event_not_a_target_nor_a_range_end():
    text = "2021年秋季学期起试点，2022年3月推广；2021—2025年规划，力争到2030年全覆盖。"
    assert infer_year(text, latest=2026) == 2022
    assert infer_year("2027年春季学期", latest=2026) is None  # not yet: not a past event
    assert infer_year("没有年份", latest=2026) is None
    assert title_year("2023年度典型案例", latest=2026) == 2023


def test_undated_collections_get_the_year_of_their_text(seeded):
    gz = Case.objects.filter(source__filename="guangzhou-batch2.txt")
    assert set(gz.values_list("year", "year_source")) == {(2021, Case.YearSource.TEXT)}
    moe = Case.objects.filter(source__filename="moe-2021-37.txt")
    assert set(moe.values_list("year", "year_source")) == {(2021, Case.YearSource.DATE)}


# --- query words --------------------------------------------------------------------------


def test_domain_words_stay_whole_and_single_characters_drop():
    assert search.query_terms("书面作业 时长") == ["书面作业", "时长"]
    assert search.query_terms("作业 分层设计") == ["作业", "分层设计"]
    assert search.query_terms("5+2 课后服务") == ["5+2", "课后服务"]
    assert search.query_terms("营转非 一课一销 隐形变异") == ["营转非", "一课一销", "隐形变异"]
    assert search.query_terms("作业 时") == ["作业"]
    assert search.query_terms("泥") == ["泥"]  # a one-character query is kept
    assert search.query_terms("，。！") == []


def test_a_single_character_no_longer_matches_half_the_library(seeded):
    results, mode = public_search(q="书面作业 时长")
    assert mode == "or" and results.count() == 3  # 书面作业 (2 cases) or 时长 (1)
    one, _ = public_search(q="塑")
    assert one.count() >= 1 and all("塑" in c.title + c.body for c in one[0:20])


def test_the_index_counts_title_words_with_their_weight(seeded):
    case = Case.objects.get(title__contains="午休由")
    row = CaseTerm.objects.get(case=case, term="午休")
    assert row.tf == search.TITLE_WEIGHT * 1 + case.body.count("午休")


def test_warm_up_loads_the_dictionaries_once():
    search.warm_up()
    tokenizer = search._jieba()
    assert search._jieba() is tokenizer
    assert "书面作业" in search.words("控制书面作业总量")


# --- pages --------------------------------------------------------------------------------


def test_pagination_links_carry_the_filters_without_a_stray_ampersand(seeded, client):
    html = client.get(reverse("cases:list")).content.decode()
    assert 'href="?page=2"' in html and "?&amp;" not in html and "?&" not in html
    html = client.get(reverse("cases:list"), {"q": "作业", "page": "2"}).content.decode()
    links = re.findall(r'href="(\?[^"]*)"', html)
    assert links and all(not link.startswith("?&") for link in links)
    assert any("q=" in link and "page=1" in link for link in links)


def test_an_undated_case_shows_its_year(seeded, client):
    case = Case.objects.get(source__filename="yunnan-batch6.txt", position=6)
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "2023年" in html


def test_every_field_of_the_case_library_has_a_chinese_label():
    from cases.models import CaseTerm

    han = re.compile(r"[\u4e00-\u9fff]")
    for model in (SourceDocument, Case, CaseTerm):
        assert han.search(str(model._meta.verbose_name))
        for field in model._meta.get_fields():
            if field.auto_created or not hasattr(field, "verbose_name"):
                continue
            assert han.search(str(field.verbose_name)), (model.__name__, field.name)
            for _, label in getattr(field, "choices", None) or []:
                assert han.search(str(label)), (model.__name__, field.name, label)
