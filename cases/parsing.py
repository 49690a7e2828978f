"""Parse a published collection of typical cases (典型案例) given as plain text.

Pure standard library, no Django: ``parse_collection(text)`` returns a ``ParsedDocument``
with one ``ParsedCase`` per numbered item.

Lossless rule: the only change made to the input is ``\\r\\n`` -> ``\\n``. Every character of
that ``source`` lies in exactly one case ``raw`` or in one ``preface_spans`` range; together
they tile ``source`` in order. A case's ``raw`` runs from the start of its heading line to the
last non-blank character before the next boundary (next item, section heading or closing
block), so the blank lines between items, the section headings (一、校外培训治理) and the
notice wrapped around the list all belong to the preface.

How the item numbering is found (see ``_choose_items``): every line start is matched against
several numbering styles (一、 / 1. 1、 1． / （一） / （1） / 1） / 案例一 【案例一】 / 第一例),
full- and half-width alike. For each style a dynamic programme finds the best chain of lines
numbered 1, 2, 3 … in document order, scoring how much each line looks like a case heading
(starts a paragraph, names a place or school, short first sentence); a repeated or skipped
number is tolerated at a cost. A chain is sub-numbering, and dropped, if all its lines fall
inside one item of another style's chain, or if it is stitched together from lists that
restart at 1 inside several items of another chain. The best remaining chain gives the items.
Sections whose items restart at 1 (一、作业管理 1. 2. 二、课后服务 1. 2.) are recognised
separately (``_nested_items``); otherwise a section heading is a short numbered line of
another style directly above an item (``_flat_sections``).

Metadata: ``title`` is the nearest title-like line above the list (so a forwarding notice's
title loses to the collection's); ``doc_number`` is the nearest document number above the list
(for a forwarded MoE notice: the MoE number 教基厅函〔2021〕37号, while the forwarder's number
stays in the preface); ``date``/``issuer`` are the signature of that notice. A case's theme
comes from its section heading when that names a theme (全面工作 -> 综合), otherwise from
``infer_theme``. Province/city missing from a heading are taken from the collection title
(广州市第二批… -> 广州市).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

THEMES: tuple[str, ...] = tuple(
    "校外培训治理 作业管理 课后服务 校内教育教学 家校社协同 科学教育 劳动教育 体育美育 关爱帮扶 "
    "综合".split()
)


class NotACollection(ValueError):
    """The text is not a collection of numbered cases; the message (Chinese) says why."""


@dataclass(frozen=True)
class ParsedCase:
    number: int  # 1-based position in the document
    heading: str  # the heading sentence of the item, numbering stripped
    title: str
    place: str  # as written, e.g. "白云区" or "北京市海淀区"; "" if unknown
    province: str
    city: str
    district: str
    unit: str  # school or bureau named in the heading, "" if unknown
    theme: str  # one of THEMES
    theme_source: str  # "section" or "inferred"
    section_heading: str  # raw section heading line (stripped) or ""
    body: str  # cleaned text after the heading (page breaks joined, page numbers dropped)
    raw: str  # exact slice source[start:end]
    start: int
    end: int
    themes: tuple[str, ...] = ()  # every theme the rules find, `theme` first (infer_themes)


@dataclass(frozen=True)
class ParsedDocument:
    title: str  # the collection's own title, e.g. "学校落实“双减”典型案例"
    issuer: str
    doc_number: str  # nearest document number above the list (the collection's own notice)
    date: str  # ISO date of that notice, or ""
    preface: str  # all source characters outside the cases, in order
    preface_spans: list[tuple[int, int]]
    cases: list[ParsedCase]
    source: str
    fingerprint: str  # sha256 of source (utf-8), stable across re-imports


# --------------------------------------------------------------------------- text helpers

_WS = " \t\u3000\xa0\ufeff\u2002\u2003\u2009\u200b"
# Full-width ASCII (１．（：) -> half-width, one character for one, so offsets survive.
_FW = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0xA0: 0x20}
_CJK = "\u4e00-\u9fff"
_CN = "一二三四五六七八九十百〇零两"
_TERMINAL = "。！？!?"
_END_PUNCT = "。！？!?；;…：:"
_CLOSERS = "”’」』）)】》\"'"
_PUNCT = r"[。！？!?；;，,：:“”\"]"


def _probe(line: str) -> str:
    return line.lstrip(_WS).translate(_FW)


def _cn_int(s: str) -> int:
    if s.isdigit():
        return int(s)
    digits = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "两": 2}
    total = cur = 0
    for ch in s:
        if ch in digits:
            cur = digits[ch]
        elif ch in "十百":
            total += (cur or 1) * (10 if ch == "十" else 100)
            cur = 0
    return total + cur


def _ends_sentence(s: str) -> bool:
    s = s.rstrip(_WS)
    while s and s[-1] in _CLOSERS:  # 。” counts as an end, a bare ” does not
        s = s[:-1]
        if s and s[-1] in _END_PUNCT:
            return True
    return bool(s) and s[-1] in _END_PUNCT


def _squash(s: str) -> str:
    return re.sub(f"[{_WS}]+", " ", s).strip()


# --------------------------------------------------------------------------- numbering

_N = rf"(\d{{1,3}}|[{_CN}]{{1,4}})"
_STYLES: dict[str, re.Pattern[str]] = {
    # 一、 一.  (not "一、二年级", which is a list of grades)
    "cn": re.compile(rf"([{_CN}]{{1,4}})\s*[、.](?![{_CN}]+[、年])"),
    # 1. 1、 1．  (not 1.5小时, not 2023.)
    "arabic": re.compile(r"(\d{1,3})\s*[、.](?![\d.])"),
    "cn_paren": re.compile(rf"\(\s*([{_CN}]{{1,4}})\s*\)"),
    "arabic_paren": re.compile(r"\(\s*(\d{1,3})\s*\)"),
    "arabic_rparen": re.compile(r"(\d{1,3})\s*\)"),
    # 案例1： 案例一 【案例一】
    "label": re.compile(
        rf"[【\[]\s*(?:典型)?案例\s*{_N}\s*[】\]]\s*[:、.]?|(?:典型)?案例\s*{_N}\s*(?:[:、.]|\s|$)"
    ),
    "di": re.compile(rf"第\s*{_N}\s*(?:个|例|则|篇)?\s*(?:案例)?\s*(?:[:、.]|\s|$)"),
}
_ANY_NUMBERING = re.compile("|".join(f"(?:{p.pattern})" for p in _STYLES.values()))
_SPEAKER = re.compile(r"(?:问|答|记者|主持人|Q|A)\s*[:：]")
_HEADING_MAX = 150  # a heading sentence longer than this is running text, not a heading


@dataclass(frozen=True)
class _Cand:
    line: int
    style: str
    num: int
    rest: str  # original text after the numbering
    score: float  # 0..1, how much the line looks like an item heading


def _heading_part(rest: str) -> tuple[str, str]:
    """Split an item's first line into (heading sentence, remainder of the line). The heading
    ends at the first 。！？ outside quotes and brackets (“减负！”行动。), else at the first one."""
    depth, cuts = 0, []
    for i, ch in enumerate(rest):
        depth += (ch in "“‘《（(「『【") - (ch in "”’》）)」』】")
        if ch in _TERMINAL:
            cuts.append((depth > 0, i))
    if cuts:
        cut = min(cuts)[1]
        return rest[:cut], rest[cut + 1 :]
    return rest, ""


# --------------------------------------------------------------------------- places, units

_ADMIN = r"(?:特别行政区|自治区|自治州|自治县|自治旗|地区|新区|省|市|州(?![市区县])|盟|区|县|旗)"
_PLACE_COMP = re.compile(rf"[{_CJK}]{{1,8}}?{_ADMIN}")
_NOT_PLACES = {"城区", "社区", "山区", "园区", "校区", "片区", "辖区", "市区", "县区", "学区"}
_NOT_PLACES |= {"小区", "景区", "街区", "地区", "新区", "牧区", "老区", "库区", "郊区", "全区"}
_BAD_FIRST = set("让在以为与对把将促推做抓向及全本各该我")  # 从化区 and 于都县 are places
_MUNICIPALITIES = {"北京市", "天津市", "上海市", "重庆市"}
_UNIT_SUFFIX = (
    "大学附属小学|大学附属中学|附属小学|附属中学|附属学校|实验小学|实验中学|实验学校|"
    "中心小学|中心学校|中心校|完全小学|九年一贯制学校|十二年一贯制学校|小学|中学|学校|"
    "幼儿园|学院|大学|教育体育局|教育和体育局|教体局|教育局|教育委员会|教委|教育厅|"
    "教研室|教科院|教研院|教育研究院|教师发展中心|教育指导中心|教育中心|青少年宫|少年宫"
)
_UNIT = re.compile(rf"[{_CJK}·]{{0,20}}?(?:{_UNIT_SUFFIX})")
_UNIT_EXT = re.compile(rf"[{_CJK}]{{0,2}}?(?:{_UNIT_SUFFIX})")  # 昆明理工大学 + 附属小学
_UNIT_END = re.compile(r"(校|园|局|委|院|所|中心|宫|馆|站|学|部|厅|室|组)$")
_VERBS = re.compile(r"中小学|实行|推进|推行|开展|实施|建立|打造|构建|落实|探索|加强|做好|促进|助力")
_LABEL_STOP = {"问", "答", "做法", "主要做法", "经验", "成效", "亮点", "特色", "背景", "主题", "注"}


def _rank(comp: str) -> int:
    if comp.endswith(("省", "自治区", "特别行政区")) or comp in _MUNICIPALITIES:
        return 0
    return 1 if comp.endswith(("市", "州", "盟", "地区")) else 2


def _place_comps(s: str) -> list[str]:
    """Administrative names at the start of s: 山东省 青岛市 崂山区. Levels must go down
    (a city after a district is a word such as 白云区广州培文…, not a place)."""
    comps: list[str] = []
    pos = 0
    while len(comps) < 4 and (m := _PLACE_COMP.match(s, pos)):
        comp = m.group()
        if comp in _NOT_PLACES or comp[0] in _BAD_FIRST or "的" in comp:
            break
        if comps and _rank(comp) <= _rank(comps[-1]) and not _rank(comp) == _rank(comps[-1]) == 1:
            break
        comps.append(comp)
        pos = m.end()
    return comps


def _split_region(comps: list[str]) -> tuple[str, str, str]:
    province = city = district = ""
    for comp in comps:
        if comp in _MUNICIPALITIES or comp.endswith(("省", "自治区", "特别行政区")):
            if not province:
                province = comp
                city = comp if comp in _MUNICIPALITIES else city
                continue
        if comp.endswith(("市", "州", "盟", "地区")) and not city and not district:
            city = comp
        elif not district:
            district = comp
    return province, city, district


def _find_unit(s: str) -> str:
    m = _UNIT.match(s)
    if not m or _VERBS.search(m.group()):
        return ""
    end = m.end()
    while ext := _UNIT_EXT.match(s, end):
        end = ext.end()
    return s[:end]


def _label_split(heading: str) -> tuple[str, str]:
    """'白云区教育局：推动…' -> ('白云区教育局', '推动…'); ('', heading) when there is no label."""
    m = re.match(r"([^:：，,。；;“”\"《》]{2,30})\s*[:：]\s*(.+)", heading)
    if m and m.group(1).strip() not in _LABEL_STOP:
        return m.group(1).strip(), m.group(2)
    return "", heading


def _place_unit(heading: str) -> tuple[str, str, str, list[str]]:
    """(label-or-'', place, unit, place components) as written at the start of a heading."""
    label, _ = _label_split(heading)
    comps = _place_comps(label or heading)
    place = "".join(comps)
    if label:  # 白云区教育局 / 市启明学校 are units; 白云区 and 课后服务 are not
        unit = label if label != place and _UNIT_END.search(label) else ""
    else:
        unit = _find_unit(heading)
    return label, place, unit, comps


# --------------------------------------------------------------------------- themes

# Keyword weights per theme ("keyword:weight"); the heading of a case counts four times.
_THEME_KEYWORD_SPEC = {
    "校外培训治理": "校外培训:3 培训机构:3 学科类:2 营转非:3 预收费:3 资金监管:2 隐形变异:3 "
    "白名单:1",
    "作业管理": "作业设计:3 作业管理:3 作业量:2 分层作业:2 作业:1 错题:1 批改:1",
    "课后服务": "课后服务:3 托管:2 午休:2 午托:2 延时服务:3 晚托:2 社团:1",
    "校内教育教学": "课堂:2 教学:1 教研:2 备课:2 教学质量:2 学历案:2 分班:2 考试:1 承诺:1 思政:2 "
    "校长:1 衔接:1",
    "家校社协同": "家校:3 家长学校:3 家庭教育:3 协同育人:3 家校社:3 家访:2 社区:1",
    "科学教育": "科学教育:3 科普:3 科技:2 科创:3 机器人:2 无人机:2 STEAM:2 编程:2 创客:2 实验:1",
    "劳动教育": "劳动:3 农耕:2 家务:2 种植:2",
    "体育美育": "体育:2 美育:3 艺术:2 跳绳:2 足球:2 篮球:1 书法:1 音乐:1 美术:1 非遗:2 泥塑:2 "
    "体质:2 大课间:2 体教:3",
    "关爱帮扶": "关爱:3 帮扶:3 困境儿童:3 留守:3 特殊学生:3 残疾:2 视障:2 资助:2 控辍:3 学困生:2",
}
_THEME_KEYWORDS = {
    theme: {k: float(w) for k, w in (kv.split(":") for kv in spec.split())}
    for theme, spec in _THEME_KEYWORD_SPEC.items()
}
# Section headings are often abbreviations of a theme (全面工作, 家校共育, 科技创新…).
_SECTION_ALIASES = [
    tuple(kv.split("="))
    for kv in (
        "校外培训=校外培训治理 培训机构=校外培训治理 作业=作业管理 课后=课后服务 托管=课后服务 "
        "家校=家校社协同 家庭=家校社协同 协同=家校社协同 科学=科学教育 科技=科学教育 "
        "科普=科学教育 劳动=劳动教育 体育=体育美育 美育=体育美育 艺术=体育美育 关爱=关爱帮扶 "
        "帮扶=关爱帮扶 课堂=校内教育教学 教学=校内教育教学 教研=校内教育教学 质量=校内教育教学 "
        "全面=综合 综合=综合 统筹=综合 其他=综合"
    ).split()
]


def _theme_scores(text: str) -> dict[str, float]:
    return {t: sum(w * text.count(k) for k, w in kws.items()) for t, kws in _THEME_KEYWORDS.items()}


def infer_theme(text: str, heading: str = "") -> str:
    """Best theme by keyword scoring; the heading, if given, counts four times. "综合" when
    nothing scores, or when the heading says nothing and the body spreads over many themes."""
    body = _theme_scores(text)
    head = _theme_scores(heading)
    total = {t: body[t] + 4 * head[t] for t in body}
    best = max(total, key=lambda t: (total[t], -THEMES.index(t)))
    if total[best] < 2:
        return "综合"
    if not any(head.values()) and total[best] < 0.3 * sum(total.values()):
        return "综合"  # a "多举措推进双减" case that touches everything
    return best


_THEMES_MAX = 4  # Case.themes holds four
_SECOND_THEME_MIN = 4.0  # e.g. 课后服务 once and 托管 once; a single 社团 is not a theme


def infer_themes(text: str, heading: str = "", first: str | None = None) -> list[str]:
    """Every theme the keyword rules find in a case, best first (at most four): the theme of
    ``infer_theme`` (or ``first``, a section heading's) leads; another theme follows when it
    scores at least _SECOND_THEME_MIN and a quarter of the best score."""
    lead = first or infer_theme(text, heading)
    body = _theme_scores(text)
    head = _theme_scores(heading)
    total = {t: body[t] + 4 * head[t] for t in body}
    best = max(total.values(), default=0)
    others = sorted(
        (t for t, v in total.items() if v >= _SECOND_THEME_MIN and v >= 0.25 * best and t != lead),
        key=lambda t: (-total[t], THEMES.index(t)),
    )
    return [lead, *others][:_THEMES_MAX]


def _section_themes(text: str) -> list[str]:
    """All themes a section heading names (一、作业管理与课后服务 -> both)."""
    found = [t for t in THEMES if t in text]
    for key, theme in _SECTION_ALIASES:
        if key in text and theme not in found and not found:
            found.append(theme)
    return found


def _section_theme(text: str) -> str | None:
    for theme in THEMES:
        if theme in text:
            return theme
    return next((theme for key, theme in _SECTION_ALIASES if key in text), None)


# --------------------------------------------------------------------------- years, identity

# 2021年秋季学期, 2022 年 3 月, 二〇二三年: a year as the text writes it.
_YEAR = re.compile(r"(?<![\d.])(20\d{2}|二〇[〇一二三四五六七八九]{2})\s*年")
# A year that is not something that happened: a target (到2025年, 力争2025年前), the end of a
# range (2021—2025年, 2021至2025年).
_NOT_EVENT_BEFORE = re.compile(r"(?:到|至|力争|争取|预计|计划|—|–|-|~|～|到\s*)\s*$")
_FIRST_YEAR = 2000


def _year_value(s: str) -> int:
    return int(s) if s.isdigit() else int("".join(str(_cn_int(ch)) for ch in s))


def title_year(title: str, latest: int) -> int | None:
    """A year named in a title (2022年…典型案例), if plausible."""
    years = [_year_value(m.group(1)) for m in _YEAR.finditer(title or "")]
    years = [y for y in years if _FIRST_YEAR <= y <= latest]
    return max(years) if years else None


def infer_year(text: str, latest: int) -> int | None:
    """The most plausible publication year of a text that gives no date: the latest year it
    reports something in (a collection is published after the last thing it tells:
    "2023年春季学期…" -> 2023), leaving out targets and range ends (到2025年, 2021—2025年)
    and years after ``latest`` (this year). None when the text names no year."""
    years = []
    for m in _YEAR.finditer(text or ""):
        if _NOT_EVENT_BEFORE.search(text[max(0, m.start() - 4) : m.start()]):
            continue
        year = _year_value(m.group(1))
        if _FIRST_YEAR <= year <= latest:
            years.append(year)
    return max(years) if years else None


def content_hash(body: str) -> str:
    """sha256 of a case's text with layout taken out (whitespace, punctuation, full-width
    forms, letter case): the same case from another file or another extraction."""
    import unicodedata

    flat = unicodedata.normalize("NFKC", body or "").lower()
    flat = "".join(ch for ch in flat if ch.isalnum())
    return hashlib.sha256(flat.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- structure


def _candidates(lines: list[str], prev_text: list[str]) -> dict[str, list[_Cand]]:
    out: dict[str, list[_Cand]] = {s: [] for s in _STYLES}
    for i, line in enumerate(lines):
        probe = _probe(line)
        for style, pat in _STYLES.items():
            m = pat.match(probe)
            if not m:
                continue
            rest = line[len(line) - len(probe) + m.end() :]
            heading, _ = _heading_part(rest.strip(_WS))
            if len(heading) > _HEADING_MAX or _SPEAKER.match(rest.strip(_WS)):
                break
            prev = prev_text[i]
            score = 0.0
            # An item starts a paragraph: the text before it ends a sentence or is a title.
            if not prev or _ends_sentence(prev) or len(prev.strip(_WS)) <= 40:
                score += 0.4
            if any(_place_unit(heading)[:3]):
                score += 0.3
            if 0 < len(heading.strip(_WS)) <= 60:
                score += 0.3
            num = _cn_int(next(g for g in m.groups() if g))
            out[style].append(_Cand(i, style, num, rest, score))
            break
    return out


def _best_chain(cands: list[_Cand]) -> list[_Cand]:
    """Best chain numbered 1, 2, 3 … in document order (longest-path DP over candidates)."""
    best: list[tuple[float, int] | None] = []
    seen: dict[int, list[int]] = {}  # number -> indices so far, so the DP is not quadratic
    for i, c in enumerate(cands):
        cur = (1 + c.score, -1) if c.num == 1 else None
        # Predecessors: the previous number; one skipped number (a publisher's slip, costly);
        # the same number repeated by the publisher (only between two strong headings).
        steps = [(j, 0.0) for j in seen.get(c.num - 1, [])]
        steps += [(j, 1.5) for j in seen.get(c.num - 2, [])]
        steps += [(j, 0.8) for j in seen.get(c.num, [])[-1:] if min(c.score, cands[j].score) >= 0.9]
        for j, pen in steps:
            if (
                best[j] is not None
                and (val := best[j][0] + 1 + c.score - pen) > (cur or (-9e9,))[0]
            ):
                cur = (val, j)
        best.append(cur)
        seen.setdefault(c.num, []).append(i)
    ends = [(b[0], -i) for i, b in enumerate(best) if b is not None]
    if not ends:
        return []
    i = -max(ends)[1]
    chain = []
    while i >= 0:
        chain.append(cands[i])
        i = best[i][1]  # type: ignore[index]
    return chain[::-1]


def _inside_one_item(inner: list[int], outer: list[int]) -> bool:
    """True if all `inner` lines fall between two consecutive `outer` lines, or after the last
    one but no further than an item of `outer` can reach (sub-points of the last item)."""
    if len(outer) < 2 or inner[0] <= outer[0]:
        return False
    for a, b in zip(outer, outer[1:], strict=False):
        if a < inner[0] and inner[-1] < b:
            return True
    longest = max(b - a for a, b in zip(outer, outer[1:], strict=False))
    return inner[0] > outer[-1] and inner[-1] - outer[-1] <= 1.5 * longest


def _section_like(c: _Cand) -> bool:
    """A short line without sentence punctuation: 一、校外培训治理, （二）课后服务类."""
    text = c.rest.strip(_WS)
    return 0 < len(text) <= 24 and not re.search(r"[。！？!?；;，,：:]", text)


def _heads_above(lines: list[str], cands: list[_Cand], targets: set[int]) -> list[_Cand]:
    """The section-like candidates whose next non-blank line is one of `targets`."""
    return [c for c in cands if _section_like(c) and _next_nonblank(lines, c.line) in targets]


def _next_nonblank(lines: list[str], i: int) -> int:
    i += 1
    while i < len(lines) and not lines[i].strip(_WS):
        i += 1
    return i


def _nested_items(lines, cands) -> tuple[list[_Cand], list[int]]:
    """Sections (short headings of one style) each followed by items restarting at 1."""
    best: tuple[list[_Cand], list[int]] = ([], [])
    for sec_style, sec_cands in cands.items():
        for style, item_cands in cands.items():
            ones = {c.line for c in item_cands if c.num == 1}
            secs = _heads_above(lines, sec_cands, ones) if style != sec_style else []
            if len(secs) < 2 or secs[0].num != 1:
                continue
            items: list[_Cand] = []
            bounds = [c.line for c in secs] + [len(lines)]
            for a, b in zip(bounds, bounds[1:], strict=False):
                items += _best_chain([c for c in item_cands if a < c.line < b])
            # Items must look at least as much like cases as the sections do; otherwise these
            # are items (一、甲区推进作业改革) with sub-points (1. 2.), not sections.
            mean = lambda cs: sum(c.score for c in cs) / len(cs)  # noqa: E731
            if items and mean(items) >= mean(secs) and len(items) > len(best[0]):
                best = (items, [c.line for c in secs])
    return best


def _item_like(chain: list[_Cand]) -> bool:
    """Most lines look like case headings (a place, a school, a sentence), not like 一、作业管理."""
    return sum(c.score >= 0.9 or not _section_like(c) for c in chain) * 2 > len(chain)


def _restarts_explained(chain: list[_Cand], own: list[_Cand], other: list[_Cand]) -> bool:
    """Sub-points restart at 1 inside several items of `other`: 一、… 1. 2. 二、… 1. 2. …"""
    used = {c.line for c in chain}
    outer = [c.line for c in other]
    gaps = {
        sum(o < c.line for o in outer)
        for c in own
        if c.num == 1 and c.line not in used and c.line > chain[0].line
    }
    return len(gaps - {0}) >= 2


def _choose_items(lines, cands) -> tuple[list[_Cand], list[int]]:
    chains = {s: _best_chain(c) for s, c in cands.items()}
    chains = {s: c for s, c in chains.items() if len(c) >= 2}
    valid = []
    for s, chain in chains.items():
        inner = [c.line for c in chain]
        others = [other for t, other in chains.items() if t != s]
        if any(_inside_one_item(inner, [c.line for c in other]) for other in others):
            continue  # sub-points inside one item of a higher-level list
        if any(
            _item_like(other) and _restarts_explained(chain, cands[s], other) for other in others
        ):
            continue  # a chain stitched together from the sub-points of several items
        valid.append((sum(1 + c.score for c in chain), -chain[0].line, chain))
    flat = max(valid, key=lambda v: v[:2])[2] if valid else []
    nested, sections = _nested_items(lines, cands)
    if len(nested) > len(flat):
        return nested, sections
    return flat, _flat_sections(lines, cands, flat)


def _flat_sections(lines, cands, items: list[_Cand]) -> list[int]:
    """Section headings: short numbered lines of another style directly followed by an item,
    the first one directly above item 1, numbers not decreasing (a repeat is tolerated)."""
    if not items:
        return []
    item_lines = {c.line for c in items}
    best: list[int] = []
    for style, cs in cands.items():
        if style == items[0].style:
            continue
        kept: list[_Cand] = []
        for c in _heads_above(lines, cs, item_lines):
            if c.num == 1 if not kept else kept[-1].num <= c.num <= kept[-1].num + 1:
                kept.append(c)
        if kept and _next_nonblank(lines, kept[0].line) == items[0].line and len(kept) > len(best):
            best = [c.line for c in kept]
    if best:
        return best
    # Unnumbered theme lines ("课后服务" on its own line) above the items.
    plain = [i for i in range(len(lines)) if i not in item_lines and _theme_line(lines[i])]
    plain = [i for i in plain if _next_nonblank(lines, i) in item_lines]
    return plain if plain and _next_nonblank(lines, plain[0]) == items[0].line else []


def _theme_line(line: str) -> bool:
    text = line.strip(_WS)
    return (
        0 < len(text) <= 12
        and "案例" not in text
        and not re.search(_PUNCT, text)
        and bool(_section_theme(text))
    )


_DATE = re.compile(
    rf"^(\d{{4}}|[〇零一二三四五六七八九]{{4}})\s*年\s*(\d{{1,2}}|[{_CN}]{{1,3}})"
    rf"\s*月\s*(\d{{1,2}}|[{_CN}]{{1,3}})\s*日\s*(?:印发|发布)?$"
)
_DOC_NUMBER = re.compile(
    rf"[{_CJK}]{{1,10}}\s*[〔\[［【(（]\s*\d{{4}}\s*[〕\]］】)）]\s*\d{{1,4}}\s*号"
)
_ORG = re.compile(rf"^[{_CJK}（）() ]{{2,25}}(厅|部|局|委|委员会|办公室|政府|中心|院|处|司)$")
_CLOSING = re.compile(
    r"^(?:[(（]\s*此件|(?:抄送|抄报|部内发送|主送|附件|附表|联系人|联系电话|信息公开|公开方式|"
    r"责任编辑|来源)(?:\s*\d*\s*[:：]|\s*\d+\s*$|\s*$))"
)


def _is_date(s: str) -> str:
    m = _DATE.match(s.strip(_WS).translate(_FW))
    if not m:
        return ""
    y = "".join(str(_cn_int(ch)) for ch in m.group(1)) if not m.group(1).isdigit() else m.group(1)
    return f"{y}-{_cn_int(m.group(2)):02d}-{_cn_int(m.group(3)):02d}"


def _closing_line(lines: list[str], after: int) -> int:
    """First line of the notice's closing block (此件主动公开, 抄送, signature + date)."""
    for i in range(after + 1, len(lines)):
        s = lines[i].strip(_WS)
        if not s:
            continue
        if _CLOSING.match(s) or _is_date(s):
            return i
        nxt = _next_nonblank(lines, i)
        if _ORG.match(s) and (nxt >= len(lines) or _is_date(lines[nxt])):
            return i
    return len(lines)


# --------------------------------------------------------------------------- body cleaning

_PAGE_NO = re.compile(
    r"^[-—–_~\s]*(?:第\s*)?\d{1,3}(?:\s*页)?(?:\s*[/]\s*\d{1,3}|\s*共\s*\d{1,3}"
    r"\s*页)?[-—–_~\s]*$"
)


def _clean_body(lines: list[str]) -> str:
    """Join page-break fragments: a line that does not end a sentence continues on the next
    non-blank line (blank lines are page breaks as often as paragraph breaks). A new
    paragraph starts after a sentence end, at a numbering marker, or after a short
    numbered sub-heading. Lone page-number lines are dropped."""
    paras: list[str] = []
    cur = ""
    for line in lines:
        s = _squash(line)
        if not s or _PAGE_NO.match(s.translate(_FW)):
            continue
        probe = s.translate(_FW)
        if not cur:
            cur = s
        elif (
            _ends_sentence(cur)
            or _ANY_NUMBERING.match(probe)
            or _SPEAKER.match(probe)
            or (_ANY_NUMBERING.match(cur.translate(_FW)) and len(cur) <= 40)
        ):
            paras.append(cur)
            cur = s
        elif cur[-1].isascii() and cur[-1].isalnum() and s[0].isascii() and s[0].isalnum():
            cur += " " + s  # an English word or number split by the break
        else:
            cur += s
    if cur:
        paras.append(cur)
    return "\n".join(paras)


# --------------------------------------------------------------------------- parsing


def _metadata(lines: list[str], above: list[int], closing: int) -> tuple[str, str, str, str]:
    """(title, issuer, doc_number, date) of the collection, read from the text above the list
    (nearest first, so a forwarding notice's own number loses to the collection's) and, for
    date and issuer, from the closing block."""
    title = ""
    for i in reversed(above):
        s = re.sub(r"^附件\s*\d*\s*[:：]", "", _squash(lines[i]))
        if 2 <= len(s) <= 60 and re.search("案例|经验|做法|典型|范例", s) and s[-1] not in ":：":
            title = s
            break
    for i in above if not title else ():
        s = lines[i].strip(_WS)
        if len(s) <= 60 and not re.fullmatch(r"附件\s*\d*", s) and not _DOC_NUMBER.search(s):
            if not _is_date(s) and not _ORG.match(s):
                title = _squash(s)
                break
    numbered = [i for i in above if _DOC_NUMBER.search(lines[i])]
    standalone = [i for i in numbered if _DOC_NUMBER.fullmatch(lines[i].strip(_WS))]
    num_line = (standalone or numbered or [-1])[-1]
    doc_number = _squash(_DOC_NUMBER.search(lines[num_line]).group()) if num_line >= 0 else ""
    dates = [
        i for i in [*above, *range(closing, len(lines))] if i > num_line and _is_date(lines[i])
    ]
    dates = dates or [i for i in above if _is_date(lines[i])]
    date = _is_date(lines[dates[0]]) if dates else ""
    issuer = ""
    texts = [k for k in [*above, *range(closing, len(lines))] if lines[k].strip(_WS)]
    for i in ([num_line] if num_line >= 0 else []) + dates:  # the line above number or date
        j = max((k for k in texts if k < i), default=-1)
        if j >= 0 and _ORG.match(lines[j].strip(_WS)):
            issuer = _squash(lines[j])
            break
    return title, issuer, doc_number, date


def _first_text(lines: list[str]) -> int:
    return next((i for i, line in enumerate(lines) if line.strip(_WS)), len(lines))


def _make_case(n, cand, lines, stop, starts, source, section, doc_region) -> ParsedCase:
    """Case `n` from its heading candidate to line `stop` (next item, section or closing)."""
    start = starts[cand.line]
    end = start + len(source[start : starts[stop]].rstrip())
    body_lines = lines[cand.line + 1 : stop]
    heading, remainder = _heading_part(cand.rest.strip(_WS))
    if not heading.strip(_WS) and (k := _first_text(body_lines)) < len(body_lines):
        heading, remainder = _heading_part(body_lines[k].strip(_WS))  # "案例一" on its own line
        body_lines = body_lines[k + 1 :]
    heading = _squash(heading).rstrip("，,；;：:")
    label, place, unit, comps = _place_unit(heading)
    title = _label_split(heading)[1] if label else heading
    k = _first_text(body_lines)
    nxt = _squash(body_lines[k]) if k < len(body_lines) else ""
    if heading in (place, unit) and 0 < len(nxt) <= 60 and not remainder.strip(_WS):
        title = nxt.rstrip("。")  # the heading names only the school; the next line is the title
        body_lines = body_lines[k + 1 :]
    province, city, district = _split_region(comps)
    province = province or doc_region[0]
    if not city and doc_region[1] and province in ("", doc_region[0]):
        city = doc_region[1]
    body = _clean_body([remainder, *body_lines])
    named = _section_themes(section) if section else []
    source_kind = "section" if named else "inferred"
    theme = named[0] if named else infer_theme(body, heading)
    themes = list(dict.fromkeys([*named, *infer_themes(body, heading, first=theme)]))
    return ParsedCase(
        n, heading, _squash(title), place, province, city, district, unit, theme, source_kind,
        section, body, source[start:end], start, end, tuple(themes[:_THEMES_MAX]),
    )  # fmt: skip


# --------------------------------------------------------------------------- speeches

# "白云区教育局局长 张三：…" / "【天河区奥体东小学 李四】…": a named speaker's turn.
_SPEECH_LABEL = re.compile(
    r"^(?:【([^】]{2,30})】|([^：:，,。！？!?；;“”\"【】\s][^：:，,。！？!?；;“”\"【】]{1,29})[：:])\s*\S"
)
_ROLE = re.compile(
    "局长|校长|书记|主任|处长|科长|园长|院长|老师|教师|教研员|家长|学生|代表|委员|负责人|专家|教授"
)
_NOT_SPEAKERS = {
    "时间", "地点", "联系人", "联系电话", "电话", "附件", "主送", "抄送", "来源", "责任编辑",
    "注", "备注", "地址", "邮箱", "发布时间", "信息公开选项", "主题", "目标", "做法", "成效",
}  # fmt: skip


def _speaker_label(line: str) -> str:
    """The speaker a line opens with, "" if it does not open with one."""
    m = _SPEECH_LABEL.match(line.strip(_WS).translate(_FW))
    if not m:
        return ""
    label = _squash(m.group(1) or m.group(2))
    if label in _NOT_SPEAKERS or _SPEAKER.match(label + "：") or _CLOSING.match(label + "："):
        return ""
    looks_named = bool(re.fullmatch(f"[{_CJK}]{{2,4}}", label))  # a bare name: 张三
    if looks_named or _ROLE.search(label) or any(_place_unit(label)[1:3]):
        return label
    return ""


def _speaker_items(lines: list[str]) -> list[_Cand]:
    """A collection of speeches (经验交流发言) without numbers: one item per named speaker.
    Raise NotACollection, saying why, for an interview whose speakers take turns (a speaker's
    words would not be one piece of text) or whose questions come from a host."""
    cands, seen = [], {}
    for i, line in enumerate(lines):
        label = _speaker_label(line)
        if label:
            cands.append(_Cand(i, "speaker", len(cands) + 1, line.strip(_WS), 1.0))
            seen.setdefault(label, []).append(i)
    if not seen:
        return []
    host = [i for i, line in enumerate(lines) if _SPEAKER.match(line.strip(_WS).translate(_FW))]
    again = [label for label, at in seen.items() if len(at) > 1]
    if host or again:
        who = "、".join(again[:3]) or "主持人/记者"
        raise NotACollection(
            f"这是按发言人轮流问答的访谈（{who}多次发言，中间夹有他人的提问），"
            "无法把每位发言人的话拆成一个连续的案例而不丢失文字。"
            "请把每位发言人的内容整理成一段（或给案例编号“一、”“1.”）后再导入。"
        )
    return cands if len(seen) >= 2 else []


def _speaker_case(case: ParsedCase) -> ParsedCase:
    """A speech's case: the speaker named in its title, their unit kept."""
    from dataclasses import replace

    label = _speaker_label(case.raw.split("\n", 1)[0])
    unit = case.unit or _find_unit(label)
    return replace(case, title=f"{label}：{case.title}" if label not in case.title else case.title,
                   unit=unit[:200])  # fmt: skip


def parse_collection(text: str) -> ParsedDocument:
    """Parse a published case collection; raise NotACollection if the text is not one."""
    if not text.strip(_WS + "\n\r"):
        raise NotACollection("文本为空，不是典型案例汇编。")
    if not re.search(f"[{_CJK}]", text):
        raise NotACollection("文本中没有中文内容，不是典型案例汇编。")
    source = text.replace("\r\n", "\n")
    lines = source.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)  # starts[len(lines)] is past the end
    prev_text, last = [], ""
    for line in lines:
        prev_text.append(last)
        last = line if line.strip(_WS) else last

    items, section_lines = _choose_items(lines, _candidates(lines, prev_text))
    speeches = len(items) < 2 and _speaker_items(lines)
    if speeches:
        items, section_lines = speeches, []  # one case per speaker
    if len(items) < 2:
        raise NotACollection(
            "未找到编号的案例条目：典型案例汇编应至少包含两个连续编号（如“一、”“1.”“（一）”）的案例。"
        )
    closing = _closing_line(lines, items[-1].line)
    bounds = sorted({c.line for c in items} | set(section_lines) | {closing, len(lines)})
    above = [i for i in range(items[0].line) if lines[i].strip(_WS) and i not in section_lines]
    title, issuer, doc_number, date = _metadata(lines, above, closing)
    doc_region = _split_region(_place_comps(title))[:2]

    cases = []
    for n, cand in enumerate(items, 1):
        section = max((i for i in section_lines if i < cand.line), default=-1)
        stop = next(b for b in bounds if b > cand.line)
        sec_text = _squash(lines[section]) if section >= 0 else ""
        case = _make_case(n, cand, lines, stop, starts, source, sec_text, doc_region)
        cases.append(_speaker_case(case) if speeches else case)

    # Numbered is not yet a case collection: want a word like 案例 around the list or places and
    # schools in most headings (a notice's own 一、二、三 sections have neither).
    outside = "".join(lines[i] for i in above) + "".join(lines[closing:])
    if not re.search("案例|典型|经验|做法|范例|发言|讲话|交流", outside + title) and (
        sum(bool(c.place or c.unit) for c in cases) * 2 < len(cases)
    ):
        raise NotACollection(
            "文本有编号条目，但既没有“案例/典型经验”等字样，条目标题也没有地区或单位，"
            "看起来不是典型案例汇编。"
        )
    spans, pos = [], 0
    for case in cases:
        spans += [(pos, case.start)] if case.start > pos else []
        pos = case.end
    spans += [(pos, len(source))] if pos < len(source) else []
    preface = "".join(source[a:b] for a, b in spans)
    fingerprint = hashlib.sha256(source.encode("utf-8")).hexdigest()
    return ParsedDocument(
        title, issuer, doc_number, date, preface, spans, cases, source, fingerprint
    )
