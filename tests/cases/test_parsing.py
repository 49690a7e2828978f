"""Tests for cases.parsing: the three real seed collections and synthetic shapes."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # lets the module be tested without the Django test settings
    sys.path.insert(0, str(ROOT))

from cases.parsing import (  # noqa: E402
    THEMES,
    NotACollection,
    ParsedDocument,
    infer_theme,
    parse_collection,
)

# the published collections beside the checkout (shared/seeds), else the copies the demo
# ships (cases/demo_data)
SEEDS = ROOT.parent / "shared" / "seeds"
if not SEEDS.is_dir():
    SEEDS = ROOT / "cases" / "demo_data"
SEED_FILES = ["guangzhou-batch2.txt", "yunnan-batch6.txt", "moe-2021-37.txt"]


def read_seed(name: str) -> str:
    return (SEEDS / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seeds() -> dict[str, ParsedDocument]:
    return {name: parse_collection(read_seed(name)) for name in SEED_FILES}


def assert_lossless(doc: ParsedDocument) -> None:
    pieces = [(c.start, c.end, "case") for c in doc.cases]
    pieces += [(a, b, "preface") for a, b in doc.preface_spans]
    pieces.sort()
    pos = 0
    for a, b, kind in pieces:
        assert a == pos, f"gap or overlap at {pos} ({kind})"
        assert b > a, "empty span"
        pos = b
    assert pos == len(doc.source)
    for case in doc.cases:
        assert case.raw == doc.source[case.start : case.end]
    assert "".join(doc.source[a:b] for a, b, _ in pieces) == doc.source
    assert doc.preface == "".join(doc.source[a:b] for a, b in doc.preface_spans)
    assert [c.number for c in doc.cases] == list(range(1, len(doc.cases) + 1))
    assert all(c.theme in THEMES for c in doc.cases)
    assert all(c.theme_source in ("section", "inferred") for c in doc.cases)


# --------------------------------------------------------------------------- the seed files


@pytest.mark.parametrize("name", sorted({*SEED_FILES, *(p.name for p in SEEDS.glob("*.txt"))}))
def test_every_seed_file_is_partitioned_losslessly(name):
    text = read_seed(name)
    doc = parse_collection(text)
    assert doc.source == text.replace("\r\n", "\n")
    assert_lossless(doc)
    # Windows line endings give the same source, the same cases and the same fingerprint.
    assert parse_collection(text.replace("\n", "\r\n")) == doc


@pytest.mark.parametrize("name", SEED_FILES)
def test_parsing_is_deterministic(name):
    text = read_seed(name)
    first, second = parse_collection(text), parse_collection(text)
    assert first == second
    assert first.fingerprint == second.fingerprint
    assert len(first.fingerprint) == 64


def test_guangzhou_items_sections_and_places(seeds):
    doc = seeds["guangzhou-batch2.txt"]
    assert len(doc.cases) == 32
    assert doc.title == "广州市第二批“双减”工作典型案例"
    assert all(c.theme_source == "section" for c in doc.cases)
    themes = [c.theme for c in doc.cases]
    assert themes == (
        ["校外培训治理"] * 2
        + ["作业管理"] * 8
        + ["课后服务"] * 8
        + ["校内教育教学"] * 6
        + ["家校社协同"] * 2
        + ["综合"] * 6  # the repeated number "五、全面工作"
    )
    assert doc.cases[25].section_heading == "五、家校社协同"
    assert doc.cases[26].section_heading == "五、全面工作"
    first = doc.cases[0]
    assert (first.place, first.district, first.city, first.unit) == (
        "白云区",
        "白云区",
        "广州市",
        "",
    )
    assert first.heading == "白云区：用好“绣花”功，赋能机构转型"
    assert first.title == "用好“绣花”功，赋能机构转型"
    assert first.body.startswith("一是挂图作战")
    assert doc.cases[1].place == "从化区"
    assert (doc.cases[2].place, doc.cases[2].unit) == ("白云区", "白云区教育局")
    assert doc.cases[20].unit == "广州市第五中学"
    assert doc.cases[27].place == "白云区"  # not 白云区广州 (培文外国语学校)
    assert doc.cases[31].title == "“绳”牵五育，全面发展"
    # Section headings stay in the preface, each exactly once.
    for heading in ("一、校外培训治理", "二、作业管理", "五、家校社协同", "五、全面工作"):
        assert doc.preface.count(heading) == 1
        assert all(heading not in c.raw for c in doc.cases)
    # The "1.“纵向三级管理”" sub-points inside case 18 did not start cases.
    assert "1.“纵向三级管理”" in doc.cases[17].raw


def test_yunnan_items_and_page_breaks(seeds):
    doc = seeds["yunnan-batch6.txt"]
    assert len(doc.cases) == 25
    assert doc.title == "云南省第六批义务教育校内“双减”典型案例"
    assert all(c.theme_source == "inferred" and c.section_heading == "" for c in doc.cases)
    first = doc.cases[0]
    assert first.heading == "腾冲市科教协同奏响“双减”新乐章"
    assert (first.place, first.province) == ("腾冲市", "云南省")
    # "…2.3 万人" / page break / "次。四是…" is one sentence in the body, not in the raw.
    assert "参加活动 2.3 万人次。四是科学培养" in first.body
    assert "2.3 万人\n\n次。" in first.raw
    # A word split by the page break ("泥" / "塑") is joined again.
    assert "以“美育+泥塑“让市级" in doc.cases[5].body
    assert doc.cases[5].unit == "临翔区蚂蚁堆乡中心校"
    second = doc.cases[1]
    assert (second.city, second.district) == ("昆明市", "西山区")
    assert doc.cases[10].unit == "昆明理工大学附属小学"
    # Sentence ends still separate paragraphs.
    assert "的工作机制。\n二是组建" in doc.cases[18].body
    assert doc.cases[24].raw.endswith("单独列为课后服务事项考核发放。")
    assert doc.doc_number == "" and doc.date == ""


def test_moe_notice_wrapped_around_the_list(seeds):
    doc = seeds["moe-2021-37.txt"]
    assert len(doc.cases) == 10
    # The collection's own notice (MoE) wins over the Hebei forwarding notice.
    assert doc.doc_number == "教基厅函〔2021〕37号"
    assert doc.issuer == "教育部办公厅"
    assert doc.date == "2021-09-17"
    assert doc.title == "学校落实“双减”典型案例"
    for kept in ("冀教基函〔2021〕29号", "教基厅函〔2021〕37号", "河北省教育厅", "各省、自治区"):
        assert kept in doc.preface
    # The closing block after the last case is preface, not part of case 10.
    last = doc.cases[-1]
    assert last.raw.endswith("综合满意度超过90%。")
    assert doc.preface.endswith(
        "（此件主动公开）\n\n部内发送：有关部领导，办公厅\n\n教育部办公厅\n\n2021年9月18日印发"
    )
    assert doc.cases[0].raw.startswith("一、重庆市分学科精细化指导作业设计与实施。")
    assert (doc.cases[0].place, doc.cases[0].province, doc.cases[0].city) == ("重庆市",) * 3
    崂山 = doc.cases[3]
    assert (崂山.place, 崂山.province, 崂山.city, 崂山.district) == (
        "山东省青岛市崂山区",
        "山东省",
        "青岛市",
        "崂山区",
    )
    assert doc.cases[0].theme == "作业管理"
    assert doc.cases[4].theme == "课后服务"


def test_seed_with_page_numbers_and_a_stray_number(seeds):
    """Variants of the seeds: page numbers, a sub-list at line starts, a stray "11." line."""
    text = read_seed("yunnan-batch6.txt")
    text = text.replace("\n\n次。四是", "\n\n- 3 -\n\n次。四是").replace(
        "\n\n总结等科学", "\n\n12\n\n总结等科学"
    )
    doc = parse_collection(text)
    assert len(doc.cases) == 25
    assert_lossless(doc)
    assert "参加活动 2.3 万人次。四是" in doc.cases[0].body
    assert "- 3 -" in doc.cases[0].raw and "- 3 -" not in doc.cases[0].body
    assert "实验、总结等科学思维能力" in doc.cases[1].body

    text = read_seed("guangzhou-batch2.txt")
    text = text.replace("管理机制。1.“纵向", "管理机制。\n1.“纵向")
    text = text.replace("保驾护航。2.“横向", "保驾护航。\n2.“横向")
    text = text.replace("一是以“三精”实现提质。", "一是以“三精”\n\n11.以实现提质。")
    doc = parse_collection(text)
    assert len(doc.cases) == 32
    assert_lossless(doc)
    assert "\n11.以实现提质" in doc.cases[9].raw
    assert doc.cases[10].heading.startswith("白云区教育局")
    assert "\n2.“横向双主体" in doc.cases[17].raw


# --------------------------------------------------------------------------- other shapes

PAREN_ITEMS = """关于印发全省“双减”优秀案例的通知

（一）杭州市上城区：打造“15分钟”课后服务圈。
上城区统筹辖区少年宫、科技馆资源，开设课后服务课程120门，参与学生超过1.5万人次。
（二）宁波市鄞州区：作业设计“三段式”改革。
鄞州区推行分层作业，2022年全区作业时长平均减少0.5小时。
（三）温州市鹿城区实验小学：家校共育新模式。
学校成立家长学校，每月举办家庭教育讲座。
(四)绍兴市柯桥区：严查隐形变异学科类培训。
柯桥区联合市场监管部门开展校外培训机构专项检查，压减培训机构32家。
（五）丽水市莲都区：劳动教育基地建设。
莲都区建成劳动教育实践基地8个，学生每周参加劳动1次。
"""


def test_items_numbered_in_parentheses_without_sections():
    doc = parse_collection(PAREN_ITEMS)
    assert_lossless(doc)
    assert [c.place for c in doc.cases] == [
        "杭州市上城区",
        "宁波市鄞州区",
        "温州市鹿城区",
        "绍兴市柯桥区",
        "丽水市莲都区",
    ]
    assert all(c.theme_source == "inferred" for c in doc.cases)
    assert [c.theme for c in doc.cases] == [
        "课后服务",
        "作业管理",
        "家校社协同",
        "校外培训治理",
        "劳动教育",
    ]
    assert doc.cases[2].unit == "温州市鹿城区实验小学"
    assert doc.cases[1].body == "鄞州区推行分层作业，2022年全区作业时长平均减少0.5小时。"


@pytest.mark.parametrize(
    "text",
    [
        "典型案例汇编\n\n案例1：北京市海淀区：作业“点菜单”\n学校设计分层作业。\n\n"
        "案例2：天津市和平区：课后服务全覆盖\n和平区课后服务覆盖全部学校。\n",
        "典型案例汇编\n【案例一】北京市海淀区：作业“点菜单”\n学校设计分层作业。\n"
        "【案例二】天津市和平区：课后服务全覆盖\n和平区课后服务覆盖全部学校。\n",
        "典型案例汇编\n案例一\n北京市海淀区：作业“点菜单”\n学校设计分层作业。\n"
        "案例二\n天津市和平区：课后服务全覆盖\n和平区课后服务覆盖全部学校。\n",
    ],
    ids=["案例1：", "【案例一】", "案例一-alone"],
)
def test_items_labelled_as_cases(text):
    doc = parse_collection(text)
    assert_lossless(doc)
    assert [(c.place, c.title) for c in doc.cases] == [
        ("北京市海淀区", "作业“点菜单”"),
        ("天津市和平区", "课后服务全覆盖"),
    ]
    assert doc.cases[0].body == "学校设计分层作业。"
    assert doc.title == "典型案例汇编"


SUB_POINTS = """“双减”工作典型案例

一、甲市乙区：推进作业管理改革
1.建立作业公示制度。各校每周公示作业。
2.开展作业设计比赛。全区共收到作品300件。
3.加强督查。每学期检查2次。
二、丙县：课后服务提质
1.丰富课程。开设课程50门。
2.保障经费。
3.加强考核。
三、丁市第一中学：科技教育
1.建设创客空间。
2.组织机器人比赛。
3.开展科普讲座。
4.邀请院士进校园。
5.参加全国大赛。
"""


def test_cases_with_their_own_numbered_sub_points():
    doc = parse_collection(SUB_POINTS)
    assert_lossless(doc)
    assert len(doc.cases) == 3
    assert [c.title for c in doc.cases] == ["推进作业管理改革", "课后服务提质", "科技教育"]
    assert doc.cases[0].body.splitlines()[0] == "1.建立作业公示制度。各校每周公示作业。"
    assert doc.cases[2].body.count("\n") == 4
    assert doc.cases[2].unit == "丁市第一中学"
    assert doc.cases[2].theme == "科学教育"


def test_sub_points_in_parentheses_inside_arabic_items():
    text = (
        "典型案例\n1.甲区：作业改革。\n（一）控制总量。\n（二）提高质量。\n（三）加强监督。\n"
        "2.乙区：课后服务。\n（一）全覆盖。\n（二）多样化。\n3.丙区：家校协同。\n（一）家长学校。\n"
    )
    doc = parse_collection(text)
    assert [c.place for c in doc.cases] == ["甲区", "乙区", "丙区"]
    assert "（三）加强监督。" in doc.cases[0].body


NESTED = """典型案例

一、作业管理
1.甲区：作业公示。
甲区推行作业公示。
2.乙县：分层作业。
乙县推行分层作业。
二、课后服务
1.丙区：延时服务。
丙区开展延时服务。
2.丁区第二小学：午休躺睡。
学校实行午休躺睡。
3.戊县：托管。
戊县开展托管服务。
"""


def test_items_restarting_under_each_section():
    doc = parse_collection(NESTED)
    assert_lossless(doc)
    assert [c.place for c in doc.cases] == ["甲区", "乙县", "丙区", "丁区", "戊县"]
    assert [c.theme for c in doc.cases] == ["作业管理"] * 2 + ["课后服务"] * 3
    assert all(c.theme_source == "section" for c in doc.cases)
    assert doc.cases[3].section_heading == "二、课后服务"
    assert doc.cases[3].unit == "丁区第二小学"


def test_unnumbered_theme_lines_as_sections():
    text = (
        "典型案例\n课后服务\n1.甲区：延时服务。甲区开展延时服务。\n2.乙区：托管。乙区托管。\n"
        "劳动教育\n3.丙县：劳动基地。丙县建成劳动基地。\n"
    )
    doc = parse_collection(text)
    assert [(c.theme, c.theme_source) for c in doc.cases] == [
        ("课后服务", "section"),
        ("课后服务", "section"),
        ("劳动教育", "section"),
    ]


def test_full_width_numbers_spaces_and_windows_line_endings():
    text = (
        "典型案例\r\n"
        "\u3000\u3000１．北京市海淀区：作业改革。海淀区推进作业改革，每天作业不超过1.5小时。\r\n"
        "\xa02、天津市和平区：课后服务。和平区开展课后服务，\r\n\r\n覆盖率100%。\r\n"
        "\u3000\u30003．上海市徐汇区：科学教育。徐汇区开展科普活动。\r\n"
    )
    doc = parse_collection(text)
    assert_lossless(doc)
    assert "\r" not in doc.source
    assert [c.place for c in doc.cases] == ["北京市海淀区", "天津市和平区", "上海市徐汇区"]
    assert doc.cases[0].raw.startswith("\u3000\u3000１．北京市海淀区")
    assert doc.cases[1].body == "和平区开展课后服务，覆盖率100%。"
    assert doc.cases[0].body.endswith("不超过1.5小时。")
    assert doc.fingerprint == parse_collection(text.replace("\r\n", "\n")).fingerprint


def test_numbers_in_running_text_do_not_start_cases():
    text = (
        "典型案例\n一、甲区：减轻作业负担。学生每天作业不超过1.5小时，\n"
        "2023年以来，\n3.经验做法\n在全区推广。\n"
        "二、乙区：课后服务。乙区开展课后服务。\n三、丙区：科普。丙区开展科普。\n"
    )
    doc = parse_collection(text)
    assert len(doc.cases) == 3
    assert "3.经验做法" in doc.cases[0].raw


NOTICE_WITH_OWN_SECTIONS = """某市教育局关于推广“双减”典型案例的通知
某教基〔2023〕5号
各区教育局：
一、提高认识
各区要高度重视。
二、加强学习
各校要认真学习。
三、及时报送
请及时报送经验。
附件：典型案例
1.甲区：作业公示制度。甲区推行作业公示。
2.乙区：课后服务全覆盖。乙区开展课后服务。
3.丙县第一小学：劳动教育。学校开展劳动教育。
4.丁区：科普进校园。丁区开展科普活动。

某市教育局
2023年3月1日
抄送：市政府办公厅
"""


def test_notice_with_its_own_numbered_sections_and_a_closing_block():
    doc = parse_collection(NOTICE_WITH_OWN_SECTIONS)
    assert_lossless(doc)
    assert [c.place for c in doc.cases] == ["甲区", "乙区", "丙县", "丁区"]
    assert (doc.doc_number, doc.issuer, doc.date) == (
        "某教基〔2023〕5号",
        "某市教育局",
        "2023-03-01",
    )
    assert doc.title == "典型案例"
    assert "一、提高认识" in doc.preface and "三、及时报送" in doc.preface
    assert doc.cases[-1].raw == "4.丁区：科普进校园。丁区开展科普活动。"
    assert doc.preface.endswith("某市教育局\n2023年3月1日\n抄送：市政府办公厅\n")
    assert all(c.theme_source == "inferred" for c in doc.cases)


def test_items_numbered_di_with_a_chinese_numeral_date():
    text = (
        "二〇二三年度典型案例\n第一例 北京市东城区：作业改革\n东城区推进作业改革。\n"
        "第二例 北京市西城区：课后服务\n西城区开展课后服务。\n\n"
        "北京市教育委员会\n二〇二三年十二月五日\n"
    )
    doc = parse_collection(text)
    assert [c.district for c in doc.cases] == ["东城区", "西城区"]
    assert (doc.issuer, doc.date) == ("北京市教育委员会", "2023-12-05")
    assert doc.cases[1].raw.endswith("西城区开展课后服务。")


def test_heading_that_names_only_the_school_and_quoted_punctuation():
    text = (
        "典型案例\n（一）北京市海淀区中关村第一小学\n\n作业“点菜单”设计\n学校设计分层作业。\n"
        "（二）天津市和平区：“减负！”行动。和平区推进减负。\n"
    )
    first, second = parse_collection(text).cases
    assert (first.unit, first.title, first.body) == (
        "北京市海淀区中关村第一小学",
        "作业“点菜单”设计",
        "学校设计分层作业。",
    )
    assert (second.title, second.body) == ("“减负！”行动", "和平区推进减负。")


def test_interviews_by_speaker_are_not_items():
    text = (
        "“双减”访谈实录\n\n一、北京市海淀区教委：作业减下来，质量提上去\n"
        "问：海淀区如何控制作业总量？\n答：我们建立了作业公示制度。\n问：效果如何？\n"
        "答：学生作业时间减少了1.5小时。\n\n二、上海市黄浦区教育局：课后服务全覆盖\n"
        "问：课后服务怎么开展？\n答：全区100%学校开展课后服务。\n"
    )
    doc = parse_collection(text)
    assert len(doc.cases) == 2
    assert doc.cases[0].unit == "北京市海淀区教委"
    assert doc.cases[0].body.splitlines() == [
        "问：海淀区如何控制作业总量？",
        "答：我们建立了作业公示制度。",
        "问：效果如何？",
        "答：学生作业时间减少了1.5小时。",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n\u3000",
        "This is an English text.\n1. First point.\n2. Second point.\n",
        "关于做好寒假期间安全工作的通知\n各学校：\n请做好寒假期间安全工作，确保师生平安。\n"
        "区教育局\n2023年1月10日\n",
        "典型案例\n\n一、甲区：作业管理改革。甲区推行作业公示。\n",
        "关于做好寒假工作的通知\n各学校：\n一、高度重视\n请各校高度重视。\n二、加强值班\n"
        "请安排好值班。\n三、及时报告\n发现问题及时报告。\n",
    ],
    ids=["empty", "blank", "english", "notice", "one-item", "notice-with-sections"],
)
def test_texts_that_are_not_collections_are_refused(text):
    with pytest.raises(NotACollection) as err:
        parse_collection(text)
    message = str(err.value)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message)
    assert isinstance(err.value, ValueError)


def test_infer_theme():
    assert infer_theme("开展科普活动，组织机器人比赛和无人机训练。") == "科学教育"
    assert infer_theme("压减学科类校外培训机构，实行预收费资金监管。") == "校外培训治理"
    assert infer_theme("学校召开会议。") == "综合"
    assert infer_theme("", heading="午休躺睡") == "课后服务"
    assert infer_theme("") in THEMES
