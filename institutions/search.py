"""Partial-match search of Chinese institution names through a GIN index.

Parents type part of a name (“学而思”, “英语培训”). A LIKE '%…%' scan reads every row; the
embedded PostgreSQL has no pg_trgm. So each name is stored as the set of its two-character
pieces in a tsvector ('simple'); a query of two or more characters becomes the AND of its
pieces, answered by the GIN index, and a final contains() removes the rare row whose pieces
are all there but not in order. A one-character query falls back to contains().
"""

import re

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import Func, Value

_SPACE = re.compile(r"\s+")


def grams(text: str) -> list[str]:
    text = _SPACE.sub("", (text or "").lower())
    return sorted({text[i : i + 2] for i in range(len(text) - 1)})


def grams_text(text: str) -> str:
    return " ".join(grams(text))


class _Grams(Func):
    """SQL: the 2-grams of a name, space-separated (so the 'simple' parser keeps them)."""

    template = (
        "(SELECT string_agg(DISTINCT substr(lower(regexp_replace(%(expressions)s, '\\s', '', 'g')),"
        " i, 2), ' ') FROM generate_series(1, greatest(char_length(%(expressions)s) - 1, 1)) i)"
    )


def refresh_grams(queryset) -> int:
    return queryset.update(name_grams=SearchVector(_Grams("name"), config="simple"))


def matching(queryset, text: str):
    text = _SPACE.sub("", text or "")
    if not text:
        return queryset
    pieces = grams(text)
    if not pieces:
        return queryset.filter(name__icontains=text)
    query = None
    for piece in pieces:
        q = SearchQuery(Value(piece), config="simple", search_type="plain")
        query = q if query is None else query & q
    # Chinese has no case: a plain LIKE, which PostgreSQL estimates better than UPPER() LIKE
    # (bench/whitelist_load.py); icontains only when the query has Latin letters
    contains = "name__icontains" if re.search(r"[A-Za-z]", text) else "name__contains"
    return queryset.filter(name_grams=query, **{contains: text})


def _like_escape(text: str) -> str:
    """As Django's contains lookups escape their pattern (backslash is LIKE's escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def squeeze(text: str) -> str:
    """The query as searched: without white space."""
    return _SPACE.sub("", text or "")


def contains_condition(text: str, *, column: str):
    """The final contains() of a squeezed query on ``column``, as SQL: (sql, params). Chinese
    has no case: a plain LIKE; UPPER() on both sides when the query has Latin letters (as
    Django's icontains)."""
    pattern = "%" + _like_escape(text) + "%"
    if re.search(r"[A-Za-z]", text):
        return f"UPPER({column}::text) LIKE UPPER(%s)", [pattern]
    return f"{column}::text LIKE %s", [pattern]


def sql_condition(text: str, *, table: str = "institutions_institution"):
    """``matching`` as a SQL condition for a raw query: (sql, params), or None when the text
    asks for nothing. The same pieces, the same GIN path, the same final contains()."""
    text = squeeze(text)
    if not text:
        return None
    contains, contains_params = contains_condition(text, column=f'{table}."name"')
    pieces = grams(text)
    if not pieces:
        return contains, contains_params
    tsquery = " && ".join("plainto_tsquery('simple'::regconfig, %s)" for _ in pieces)
    return f'({table}."name_grams" @@ ({tsquery}) AND {contains})', [*pieces, *contains_params]
