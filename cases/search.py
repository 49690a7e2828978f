"""Chinese full-text search of the case library, ranked with BM25 over the whole body.

Words come from jieba (PostgreSQL's parsers do not split Chinese, and the server has neither
pg_trgm nor zhparser), with a user dictionary of 双减 terms (``userdict.txt``) so that 书面作业,
分层设计, 营转非 or 5+2 stay whole. A case is segmented once (``cut_for_search``: a long word
and its dictionary sub-words, so 分层 also finds 分层设计) and its words are counted into a
small inverted index of our own, ``CaseTerm`` (case, term, tf), the title counting
``TITLE_WEIGHT`` times (BM25F's field boost, folded into tf and length).

Why our own index and not a weighted tsvector with ts_rank_cd (bench/cases_search.py, 6,067
cases, the 36 relevance queries of tests/cases/test_relevance.py ranked among the seeds):
- ranking: ts_rank_cd has no inverse document frequency; a case saying 作业 thirty times can
  outrank the one case that speaks of 分层设计. BM25 placed every expected case in the first
  three (hits@3 1.000); ts_rank_cd over the whole body (title A, body B, normalisation 1)
  0.991, with the same matches.
- speed: ts_rank_cd reads (and decompresses) the whole body's vector of every match (13.2 ms
  vs 16.2 ms a query on the seeds; the gap grows with the matches); BM25 reads only the index
  rows of the query's words, from one btree (term, case) INCLUDE (tf, dl): index-only.
- one index for matching and ranking, built from the same words, so the two cannot disagree.

A query keeps its words whole where the dictionary knows them (the sub-words that
cut_for_search adds are dropped when the whole word is there), drops stopwords, and drops
single characters unless the query is one character (then a plain substring match): 时/长
no longer match half the library. Every word must occur (AND); when no case has them all,
any may (OR), ranked the same way.
"""

import html
import logging
import re
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils.safestring import mark_safe

USERDICT = Path(__file__).resolve().with_name("userdict.txt")
TITLE_WEIGHT = 3  # a title word counts as three body words
K1, B = 1.2, 0.75  # BM25's usual constants (Robertson & Zaragoza 2009)
MAX_TERMS = 12
TERM_MAX_LENGTH = 64

_WORD = re.compile(r"[\w\u3400-\u9fff]")
# Function words that match almost every case.
STOPWORDS = frozenset(
    "的 了 和 与 及 等 在 是 为 对 中 把 被 将 让 从 以 于 之 也 而 并 或 就 都 各 其 "
    "这 那 有 我 我们 你 他 她 它 一 个 上 下 不".split()
)

_lock = threading.Lock()
_tokenizer = None
log = logging.getLogger(__name__)


def _jieba():
    """jieba with its dictionary and ours loaded: once per process (see warm_up)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                jieba.load_userdict(str(USERDICT))
                _tokenizer = jieba
    return _tokenizer


def warm_up() -> float:
    """Load the dictionaries now (a server calls this at start, portal/wsgi.py), so that no
    visitor waits for them on the first search. Returns the seconds it took."""
    import time

    start = time.perf_counter()
    words("课后服务书面作业")
    return time.perf_counter() - start


def _tokens(text: str) -> list[str]:
    out = []
    for token in _jieba().cut_for_search((text or "").lower()):
        token = token.strip()
        if token and _WORD.search(token) and token not in STOPWORDS:
            out.append(token)
    return out


def words(text: str) -> list[str]:
    """The indexed words of ``text``: jieba's search segmentation, stopwords out."""
    return _tokens(text)


def segmented(text: str) -> str:
    return " ".join(words(text))


def query_terms(text: str) -> list[str]:
    """A query's words: whole where the dictionary knows them, no single characters (unless
    the query is one character), at most MAX_TERMS, in order."""
    tokens = list(dict.fromkeys(_tokens(text)))
    # cut_for_search adds a long word's sub-words (书面作业 -> 书面, 作业, 书面作业); the
    # index has them all, so the whole word alone says the same and ranks it once.
    whole = [t for t in tokens if not any(t != o and t in o for o in tokens)]
    kept = [t for t in whole if len(t) > 1]
    if not kept and len(whole) == 1 and len(re.sub(r"\W", "", text or "")) == 1:
        kept = whole
    return kept[:MAX_TERMS]


# --- the index ------------------------------------------------------------------------


def prepare(case) -> None:
    """Fill a case's segmentation and indexed length before it is saved."""
    case.search_title = segmented(case.title)
    # the themes, unit and place too: a search for 课后服务 or 番禺 finds those cases
    themes = " ".join(str(t) for t in case.themes or [])
    # (Case.place_display, spelled out: a migration's historical model has no properties)
    place = "".join(p for p in (case.province, case.city, case.district) if p) or case.place
    case.search_body = segmented(f"{themes} {case.unit} {place} {case.body}")
    case.search_length = _length(case.search_title, case.search_body)


def indexed_length(search_title: str, search_body: str) -> int:
    """A document's length for BM25 (title words weighted), from its segmentation."""
    return TITLE_WEIGHT * len(search_title.split()) + len(search_body.split())


_length = indexed_length


def term_counts(search_title: str, search_body: str) -> Counter:
    counts = Counter()
    for term in search_title.split():
        counts[term] += TITLE_WEIGHT
    counts.update(search_body.split())
    return Counter(
        {t: n for t, n in counts.items() if 1 < len(t) <= TERM_MAX_LENGTH and t not in STOPWORDS}
    )


def refresh_index(queryset) -> int:
    """Rebuild the index rows of these cases from their stored segmentation."""
    from cases.models import CaseTerm

    rows = list(queryset.values_list("pk", "search_title", "search_body"))
    ids = [pk for pk, _, _ in rows]
    CaseTerm.objects.filter(case_id__in=ids).delete()
    terms = []
    for pk, title, body in rows:
        dl = _length(title, body)
        terms += [
            CaseTerm(case_id=pk, term=t, tf=n, dl=dl) for t, n in term_counts(title, body).items()
        ]
    CaseTerm.objects.bulk_create(terms, batch_size=5000)
    return len(ids)


# --- matching and ranking -------------------------------------------------------------


# BM25 over the index rows of the query's words: one scan of the (term, case) index, which
# carries tf and the case's length (dl); the document frequency of each word comes from the
# same rows (a window), N and the mean length from the cases' length index.
#   score = sum over the words of idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
#   idf = ln(1 + (N - df + 0.5) / (df + 0.5))   (Lucene's form: never negative)
# tf and dl already carry the title's weight (TITLE_WEIGHT). A case is a match when it has
# every word ("and") or any ("or"); the queryset's own filters (published, theme, place,
# year) join as m. Ties go to the newest, then the lowest id.
_BM25_SQL = """
WITH stats AS (
    SELECT count(*)::float AS n, greatest(coalesce(avg({length}), 1), 1)::float AS avgdl
    FROM {docs}
),
hits AS (
    SELECT {fk} AS case_id, tf, dl, count(*) OVER (PARTITION BY term) AS df
    FROM {terms} WHERE term = ANY(%s)
),
scores AS (
    SELECT h.case_id, sum(
        ln(1 + (s.n - h.df + 0.5) / (h.df + 0.5))
        * h.tf * ({k1} + 1) / (h.tf + {k1} * (1 - {b} + {b} * h.dl / s.avgdl))
    ) AS score
    FROM hits h CROSS JOIN stats s
    GROUP BY h.case_id
    HAVING count(*) >= %s
),
m (id, published_on) AS ({matches})
SELECT {select}
FROM scores JOIN m ON m.id = scores.case_id
{tail}
"""


@dataclass(frozen=True)
class TermIndex:
    """Where an index of this module's kind lives: the documents' table with their indexed
    length and date (ties go to the newest), the (term, document) table of tf and dl, and the
    text fields a one-character query matches by substring. The case library's is CASES; the
    homework design library (homework/designs.py) builds its own the same way."""

    docs: str
    terms: str
    fk: str
    length: str = "search_length"
    date: str = "published_on"
    text_fields: tuple = ("title", "body")


CASES = TermIndex(docs="cases_case", terms="cases_caseterm", fk="case_id")


class RankedResults:
    """Matches in rank order, for a Paginator: counted, then sliced to ranked ids, then the
    page's rows with their joins (three narrow queries), never the whole rows."""

    def __init__(self, queryset, terms: list[str], mode: str, index: TermIndex = CASES):
        self.base = queryset
        self.terms = terms
        self.need = len(terms) if mode == "and" else 1
        self.index = index
        self._count = None

    def _run(self, select: str, tail: str = "", extra=()) -> list:
        ix = self.index
        sql, params = self.base.order_by().values_list("pk", ix.date).query.sql_with_params()
        query = _BM25_SQL.format(
            k1=K1, b=B, matches=sql, select=select, tail=tail, docs=ix.docs, terms=ix.terms,
            fk=ix.fk, length=ix.length,
        )  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(query, [self.terms, self.need, *params, *extra])
            return cursor.fetchall()

    def exists(self) -> bool:
        return bool(self._run("1", "LIMIT 1"))

    def count(self) -> int:
        if self._count is None:
            self._count = self._run("count(*)")[0][0]
        return self._count

    def __len__(self):
        return self.count()

    def ranked_ids(self, offset: int, limit: int) -> list[int]:
        tail = "ORDER BY scores.score DESC, m.published_on DESC NULLS LAST, m.id LIMIT %s OFFSET %s"
        return [row[0] for row in self._run("m.id", tail, (limit, offset))]

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start = index.start or 0
        stop = index.stop if index.stop is not None else start + 10_000
        if stop <= start:
            return []
        ids = self.ranked_ids(start, stop - start)
        rows = self.base.in_bulk(ids)
        return [rows[pk] for pk in ids if pk in rows]

    def first(self):
        page = self[0:1]
        return page[0] if page else None


def search(queryset, text: str, index: TermIndex = CASES):
    """(ranked results, mode): mode is "and", "or" (fallback) or "" (no usable words)."""
    terms = query_terms(text)
    if not terms:
        return queryset.none(), ""
    if len(terms[0]) == 1:  # a one-character query: not in the index, a substring match
        match = Q()
        for name in index.text_fields:
            match |= Q(**{f"{name}__contains": terms[0]})
        found = queryset.filter(match)
        return found.order_by(F(index.date).desc(nulls_last=True), "pk"), "and"
    results = RankedResults(queryset, terms, "and", index)
    if len(terms) == 1 or results.exists():
        return results, "and"
    return RankedResults(queryset, terms, "or", index), "or"


def related(case, queryset, limit: int = 5):
    """Cases sharing the most title words with this one, best first."""
    terms = query_terms(case.title)
    if not terms:
        return []
    return RankedResults(queryset.exclude(pk=case.pk), terms, "or")[0:limit]


def snippet(text: str, query_text: str, width: int = 80) -> str:
    """A piece of ``text`` around the first query word, words marked; HTML-safe."""
    terms = sorted(set(query_terms(query_text)), key=len, reverse=True)
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


def reindex(queryset, *, segment: bool = True) -> int:
    """Re-segment (with the current dictionary) and re-index these cases."""
    from cases.models import Case

    count = 0
    with transaction.atomic():
        for case in queryset.only("pk", "title", "themes", "unit", "place", "province", "city",
                                  "district", "body").iterator(chunk_size=500):  # fmt: skip
            if segment:
                prepare(case)
                Case.objects.filter(pk=case.pk).update(
                    search_title=case.search_title,
                    search_body=case.search_body,
                    search_length=case.search_length,
                )
            count += 1
        refresh_index(queryset)
    return count
