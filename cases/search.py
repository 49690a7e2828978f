"""Chinese full-text search on PostgreSQL.

PostgreSQL's text parsers do not split Chinese into words, and the embedded server has no
pg_trgm or zhparser, so words come from jieba: each case's title and body are segmented once,
stored space-separated, and indexed as a 'simple' tsvector (title weight A, body B) under a
GIN index. A query is segmented the same way; every word must match (AND), and when nothing
does, any word may (OR) so that a long query still finds something. Ranking is ts_rank_cd.
"""

import html
import re
from functools import lru_cache

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db.models import F, Q
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


def vector():
    return SearchVector("search_title", weight="A", config="simple") + SearchVector(
        "search_body", weight="B", config="simple"
    )


def refresh_vectors(queryset) -> int:
    """Recompute the tsvector of these cases from their stored segmentation."""
    return queryset.update(search_vector=vector())


def prepare(case) -> None:
    """Fill a case's segmentation before it is saved."""
    case.search_title = segmented(case.title)
    case.search_body = segmented(f"{case.unit} {case.place_display} {case.body}")


def build_query(text: str, *, mode: str = "and") -> SearchQuery | None:
    terms = list(dict.fromkeys(words(text)))[:12]
    if not terms:
        return None
    query = None
    for term in terms:
        q = SearchQuery(term, config="simple", search_type="plain")
        query = q if query is None else (query & q if mode == "and" else query | q)
    return query


def search(queryset, text: str):
    """(ranked queryset, mode): mode is "and", "or" (fallback) or "" (no usable words)."""
    for mode in ("and", "or"):
        query = build_query(text, mode=mode)
        if query is None:
            return queryset.none(), ""
        # weights D, C, B, A: a word in the title counts 2.5 times one in the body
        ranked = (
            queryset.filter(search_vector=query)
            .annotate(
                rank=SearchRank(
                    F("search_vector"), query, weights=[0.1, 0.2, 0.4, 1.0], cover_density=True
                )
            )
            .order_by("-rank", "-published_on", "pk")
        )
        if mode == "or" or ranked.exists():
            return ranked, mode
    return queryset.none(), ""


def related(case, queryset, limit: int = 5):
    """Cases sharing the most title words with this one, same theme first."""
    query = build_query(case.title, mode="or")
    if query is None:
        return queryset.none()
    return (
        queryset.exclude(pk=case.pk)
        .filter(Q(search_vector=query))
        .annotate(rank=SearchRank(F("search_vector"), query, weights=[0.1, 0.2, 0.4, 1.0]))
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
