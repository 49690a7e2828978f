"""Chinese full-text search on PostgreSQL.

PostgreSQL's text parsers do not split Chinese into words, and the embedded server has no
pg_trgm or zhparser, so words come from jieba: each case's title and body are segmented once
and stored space-separated. A query is segmented the same way; every word must match (AND),
and when nothing does, any word may (OR), so that a long query still finds something.

Two tsvectors per case, measured with bench/cases_search.py on 20,000 cases:
- ``search_vector``: every word of title, unit, place and body, *stripped* of positions and
  weights. It decides what matches (GIN index). Stripped, it is a third of the size and
  mostly stays out of TOAST, which is what a query matching most cases pays for.
- ``rank_vector``: the title (weight A) and the body's 20 TF-IDF keywords (weight B), with
  positions. It orders the matches (ts_rank_cd): small, so ranking thousands of matches
  stays cheap, and a word in a case's title or among its keywords ranks it first.
"""

import html
import re
from contextlib import contextmanager
from functools import lru_cache

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    SearchVectorField,
)
from django.db import connection, transaction
from django.db.models import F, Func, Q
from django.utils.safestring import mark_safe

_WORD = re.compile(r"[\w\u3400-\u9fff]")
# Function words that match almost every case and only slow the ranking down.
STOPWORDS = frozenset(
    "的 了 和 与 及 等 在 是 为 对 中 把 被 将 让 从 以 于 之 也 而 并 或 就 都 各 其 "
    "这 那 有 我 我们 你 他 她 它 一 个 上 下 不".split()
)


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def words(text: str) -> list[str]:
    """Search words of ``text``: jieba's fine segmentation, punctuation and stopwords out."""
    out = []
    for token in _jieba().cut_for_search(text or ""):
        token = token.strip().lower()
        if token and _WORD.search(token) and token not in STOPWORDS:
            out.append(token)
    return out


def segmented(text: str) -> str:
    return " ".join(words(text))


class Strip(Func):
    function = "strip"
    output_field = SearchVectorField()


def match_vector():
    return Strip(
        SearchVector("search_title", "search_body", config="simple"),
    )


def rank_vector():
    return SearchVector("search_title", weight="A", config="simple") + SearchVector(
        "search_keywords", weight="B", config="simple"
    )


def refresh_vectors(queryset) -> int:
    """Recompute the tsvectors of these cases from their stored segmentation."""
    return queryset.update(search_vector=match_vector(), rank_vector=rank_vector())


def keywords(text: str, k: int = 20) -> list[str]:
    import jieba.analyse

    _jieba()
    return jieba.analyse.extract_tags(text or "", topK=k)


def prepare(case) -> None:
    """Fill a case's segmentation before it is saved."""
    case.search_title = segmented(case.title)
    # the themes too: a search for 课后服务 finds the cases filed under it
    themes = " ".join(case.themes or [])
    case.search_body = segmented(f"{themes} {case.unit} {case.place_display} {case.body}")
    case.search_keywords = segmented(" ".join(keywords(case.body)))


def build_query(text: str, *, mode: str = "and") -> SearchQuery | None:
    terms = list(dict.fromkeys(words(text)))[:12]
    if not terms:
        return None
    query = None
    for term in terms:
        q = SearchQuery(term, config="simple", search_type="plain")
        query = q if query is None else (query & q if mode == "and" else query | q)
    return query


@contextmanager
def _through_the_index():
    """Run the enclosed queries with the GIN index as the only way in.

    PostgreSQL's cost model does not count detoasting: when a word is in most cases it
    prefers a sequential scan that decompresses every case's vector (~150 ms on 20,000
    cases) over the GIN bitmap that needs none of them (~15 ms); measured with
    bench/cases_search.py. SET LOCAL ends with the transaction.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        yield


class RankedResults:
    """Matches in rank order, for a Paginator: counted and sliced in two narrow queries
    (ids and ranks first, then the page's rows with their joins), never the whole rows."""

    def __init__(self, queryset, query):
        self.base = queryset
        self.matches = queryset.filter(search_vector=query)
        self.ranked = self.matches.annotate(
            rank=SearchRank(
                F("rank_vector"), query, weights=[0.1, 0.2, 0.4, 1.0], cover_density=True
            )
        ).order_by("-rank", "-published_on", "pk")
        self._count = None

    def count(self) -> int:
        if self._count is None:
            with _through_the_index():
                self._count = self.matches.order_by().count()
        return self._count

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        with _through_the_index():
            ids = list(self.ranked.values_list("pk", flat=True)[index])
        rows = self.base.in_bulk(ids)
        return [rows[pk] for pk in ids if pk in rows]

    def first(self):
        page = self[0:1]
        return page[0] if page else None


def search(queryset, text: str):
    """(ranked results, mode): mode is "and", "or" (fallback) or "" (no usable words)."""
    for mode in ("and", "or"):
        query = build_query(text, mode=mode)
        if query is None:
            return queryset.none(), ""
        results = RankedResults(queryset, query)
        if mode == "or" or results.matches.exists():
            return results, mode
    return queryset.none(), ""


def related(case, queryset, limit: int = 5):
    """Cases sharing the most title words with this one, same theme first."""
    query = build_query(case.title, mode="or")
    if query is None:
        return queryset.none()
    return (
        queryset.exclude(pk=case.pk)
        .filter(Q(search_vector=query))
        .annotate(rank=SearchRank(F("rank_vector"), query, weights=[0.1, 0.2, 0.4, 1.0]))
        .order_by("-rank", "pk")[:limit]
    )


def snippet(text: str, query_text: str, width: int = 80) -> str:
    """A piece of ``text`` around the first query word, words marked; HTML-safe."""
    terms = sorted(set(words(query_text)), key=len, reverse=True)
    flat = re.sub(r"\s+", " ", text or "").strip()
    if not terms:
        return html.escape(flat[:width]) + ("…" if len(flat) > width else "")
    lowered = flat.lower()
    positions = [p for p in (lowered.find(t) for t in terms) if p >= 0]
    start = max(0, min(positions) - width // 4) if positions else 0
    piece = flat[start : start + width]
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    out, last = [], 0
    for match in pattern.finditer(piece):
        out.append(html.escape(piece[last : match.start()]))
        out.append(f"<mark>{html.escape(match.group(0))}</mark>")
        last = match.end()
    out.append(html.escape(piece[last:]))
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(flat) else ""
    return mark_safe(prefix + "".join(out) + suffix)  # noqa: S308 (every piece is escaped)
