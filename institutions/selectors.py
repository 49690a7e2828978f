"""Reads of the register shared by the public pages, the API and the board."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone

from institutions import colour, search
from institutions.models import (
    Course,
    CourseSlot,
    Institution,
    ListChange,
    SupervisedAccount,
)
from portal import prepared
from portal.models import District
from portal.params import ID_MAX
from portal.rows import instance as row_instance

PUBLIC_FIELDS = [
    "id", "name", "category", "subjects", "mode", "district__name", "licence_expires",
]  # fmt: skip


@dataclass
class SearchPage:
    """One page of the public search: its rows (dicts) and the number of matches."""

    rows: list
    count: int
    number: int
    per_page: int
    # the count stopped at a cap (``COUNT_CAP``): there are more matches than ``count``
    capped: bool = False

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.count // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages or (self.capped and bool(self.rows))

    @property
    def has_other_pages(self) -> bool:
        return self.num_pages > 1


def public_search(*, q="", district=None, category="", subject="", list_colour=""):
    """The register's public search as a queryset (colour annotated: the stored one while it
    holds, else computed: colour.stored_colour_expression), ordered by name. The page and
    the API read ``public_search_page``: the same search in one raw query."""
    today = timezone.localdate()
    qs = Institution.objects.annotate(colour=colour.stored_colour_expression(today=today))
    if district:
        qs = qs.filter(district=district)
    if category:
        qs = qs.filter(category=category)
    if subject:
        qs = qs.filter(subjects__contains=[subject])
    if list_colour:
        qs = qs.filter(colour=list_colour)
    qs = search.matching(qs, q)
    return qs.order_by("name", "id")


T = "institutions_institution"
MAX_PAGE = 1_000_000
# A name search counts its matches up to this many (or up to the page asked for, if further):
# the page says "超过 1000 家" beyond it. A parent looks one institution up; counting every
# one of 40,000 names with "培训" in them would cost each request 20 ms for a number nobody
# pages through.
COUNT_CAP = 1000
# A query of several pieces walks the institutions of its rarest piece: each piece's are
# counted up to this many to tell which
PROBE = 500
G = "institutions_namegram"
# the columns a page may show (the API adds the district's name and the licence's expiry)
PAGE_COLUMNS = {
    "id": f'{T}."id"', "name": f'{T}."name"', "category": f'{T}."category"',
    "mode": f'{T}."mode"', "subjects": f'{T}."subjects"', "district_id": f'{T}."district_id"',
    "licence_expires": f'{T}."licence_expires"',
    "district": f'(SELECT d."name" FROM portal_district d WHERE d."id" = {T}."district_id")',
}  # fmt: skip


def district_names() -> list[tuple[int, str]]:
    """[(id, name)] of every district by code: the search form's choices (raw: the ORM's
    compiling cost a public page more than the query)."""
    with connection.cursor() as cursor:
        cursor.execute('SELECT "id", "name" FROM portal_district ORDER BY "code", "id"')
        return cursor.fetchall()


def _where(*, q, district, category, subject, list_colour, colour_sql):
    where, params = [], []
    condition = search.sql_condition(q, table=T)
    if condition:
        where.append(condition[0])
        params += condition[1]
    if district:
        if 0 < int(district) < 2**63:
            where.append(f'{T}."district_id" = %s')
            params.append(int(district))
        else:  # no such id (and out of bigint's range: no SQL error), as the ORM answers
            where.append("false")
    if category:
        where.append(f'{T}."category" = %s')
        params.append(category)
    if subject:
        where.append(f'{T}."subjects" @> ARRAY[%s]::varchar(10)[]')
        params.append(subject)
    if list_colour:
        where.append(f"({colour_sql[0]}) = %s")
        params += [*colour_sql[1], list_colour]
    return (" WHERE " + " AND ".join(where) if where else ""), params


def public_search_page(
    *, q="", district=None, category="", subject="", list_colour="", page=1, per_page=20,
    columns=("id", "name", "category", "mode", "subjects", "district_id"), clamp=True,
) -> SearchPage:  # fmt: skip
    """A page of the public search (``public_search``'s rows, in its order) in one query,
    the count stopping at ``COUNT_CAP`` (``capped``). A name of two characters or more:
    through the name index (``_name_page``); else the institutions in the order of the index
    (name, id) (a one-character name: a LIKE on each). The colour: the stored one while it
    holds, else computed (``_rows``); only ``columns`` fetched (with "id"). A page past the
    last: the last page (``clamp``, as Paginator.get_page; one more query) or no rows."""
    today = timezone.localdate()
    colour_sql = colour.stored_colour_sql(today)
    # a page number past any list (a hostile ?page=99999999999) is the last page / none,
    # never an OFFSET beyond bigint
    number = min(page, MAX_PAGE) if isinstance(page, int) and page >= 1 else 1
    filters = dict(
        district=district, category=category, subject=subject, list_colour=list_colour,
        colour_sql=colour_sql,
    )  # fmt: skip
    if search.grams(search.squeeze(q)):
        return _name_page(q, filters, number, per_page, columns, clamp)
    # no name, or a one-character one (a LIKE on each row): the rows in the index
    # (name, id)'s order, as far as the cap
    where, params = _where(q=q, **filters)
    cap = max(COUNT_CAP, number * per_page) + 1
    matches = (
        f'WITH m AS MATERIALIZED (SELECT {T}."id" AS id, row_number() OVER'
        f' (ORDER BY {T}."name", {T}."id") AS rn FROM {T}{where}'
        f' ORDER BY {T}."name", {T}."id" LIMIT %s)'
    )  # fmt: skip
    return _capped_page(matches, [*params, cap], cap, number, per_page, columns, clamp)


def _select(columns) -> str:
    """The page's columns, then the stored colour and the day it holds until (``_rows``)."""
    return ", ".join(
        [f"{PAGE_COLUMNS[c]} AS {c}" for c in columns]
        + [f'{T}."list_colour"', f'{T}."colour_until"']
    )


def _rows(found, columns, today) -> list[dict]:
    """The rows as dicts with their colour: the stored one while it holds, else computed
    from the inputs (one more query, only when a row's stored colour ran out: between
    midnight and the nightly refresh, or after a change the refresh has not seen)."""
    rows, stale = [], []
    for r in found:
        row = dict(zip(columns, r, strict=False))
        stored, until = r[len(columns)], r[len(columns) + 1]
        if until is not None and until >= today and stored in colour.LABELS:
            row["colour"] = stored
        else:
            stale.append(row)
        rows.append(row)
    if stale:
        computed = colour.computed_colours([row["id"] for row in stale], today=today)
        for row in stale:
            row["colour"] = computed[row["id"]]
    return rows


def _name_page(q, filters, number, per_page, columns, clamp) -> SearchPage:
    """``public_search_page`` for a name of two characters or more, in one query through
    institutions_namegram's index (gram, name, institution): the matches of the query's
    rarest piece (each piece's counted up to ``PROBE``) walked in the search's order, the
    whole name matched on the index's copy of it (LIKE, as ``search.sql_condition``), the
    institution's row read only for a filter or for the page's rows. The count stops at
    ``COUNT_CAP`` (or at the page asked for): ``capped``."""
    text = search.squeeze(q)
    pieces = search.grams(text)
    contains = search.contains_condition(text, column='n."name"')
    where, params = _where(q="", **filters)
    join = f' JOIN {T} ON {T}."id" = n."institution_id"' if where else ""
    cap = max(COUNT_CAP, number * per_page) + 1
    if len(pieces) == 1:
        walk, walk_params = "%s", [pieces[0]]
    else:
        walk = (
            f"(SELECT p FROM unnest(%s::text[]) p ORDER BY (SELECT count(*) FROM (SELECT 1 FROM"
            f" {G} x WHERE x.gram = p LIMIT {PROBE}) c), p LIMIT 1)"
        )
        walk_params = [pieces]
    # the matches numbered in the index's order (no sort: the window reads them in it)
    matches = (
        f'WITH m AS MATERIALIZED (SELECT n."institution_id" AS id, row_number() OVER'
        f' (ORDER BY n."name", n."institution_id") AS rn FROM {G} n{join}'
        f' WHERE n."gram" = {walk} AND {contains[0]}'
        + (" AND " + where.removeprefix(" WHERE ") if where else "")
        + ' ORDER BY n."name", n."institution_id" LIMIT %s)'
    )  # fmt: skip
    return _capped_page(
        matches, [*walk_params, *contains[1], *params, cap], cap, number, per_page, columns,
        clamp,
    )  # fmt: skip


def _capped_page(matches, matches_params, cap, number, per_page, columns, clamp) -> SearchPage:
    """The page ``number`` of the matches ``matches`` numbers (a CTE "m" of (id, rn), at
    most ``cap`` rows, which stops the count), with their institutions' columns, in one
    prepared query; a page past the last: the last (``clamp``, one more query) or none."""
    sql = (
        f"{matches} SELECT {_select(columns)}, (SELECT count(*) FROM m) AS total"
        f" FROM m JOIN {T} ON {T}.\"id\" = m.id WHERE m.rn > %s AND m.rn <= %s ORDER BY m.rn"
    )  # fmt: skip

    def fetch(n):
        return prepared.fetch(sql, [*matches_params, (n - 1) * per_page, n * per_page])

    found = fetch(number)
    if found:
        total = found[0][-1]
    else:
        with connection.cursor() as cursor:
            cursor.execute(f"{matches} SELECT count(*) FROM m", matches_params)
            total = cursor.fetchone()[0]
        if number > 1 and clamp and total:
            number = -(-total // per_page)  # the last page (the count is exact below it)
            found = fetch(number)
    rows = _rows(found, columns, timezone.localdate())
    capped = total >= cap
    return SearchPage(
        rows=rows, count=min(total, cap - 1), number=number, per_page=per_page, capped=capped
    )


# an institution's courses on sale (active and approved, 已备案) by name, each with its weekly
# slots, as one JSON array; {institution} is the SQL of the institution's id
_COURSES_JSON = """(
    SELECT json_agg(json_build_array(c.id, c.name, c.subject, c.lesson_minutes, c.class_size,
                                     c.price_per_lesson::text, c.term_start, c.term_end,
                                     (SELECT json_agg(json_build_array(s.weekday, s.start, s."end")
                                                      ORDER BY s.weekday, s.start, s.id)
                                      FROM institutions_courseslot s WHERE s.course_id = c.id))
                    ORDER BY c.name, c.id)
    FROM institutions_course c
    WHERE c.institution_id = {institution} AND c.active AND c.filing = %s)"""
_COURSE_FIELDS = (
    "id", "name", "subject", "lesson_minutes", "class_size", "price_per_lesson", "term_start",
    "term_end", "slots",
)  # fmt: skip


def _courses(found) -> list[dict]:
    """``_COURSES_JSON`` as the public page shows it: dicts, the subject's label, the slots
    as text (CourseSlot's own)."""
    subjects = dict(Course._meta.get_field("subject").flatchoices)
    rows = []
    for values in found or []:
        row = dict(zip(_COURSE_FIELDS, values, strict=True))
        row["price_per_lesson"] = Decimal(row["price_per_lesson"])
        row["term_start"] = dt.date.fromisoformat(row["term_start"])
        row["term_end"] = dt.date.fromisoformat(row["term_end"])
        row["subject_label"] = subjects.get(row["subject"], row["subject"])
        row["slots"] = [
            str(CourseSlot(weekday=w, start=dt.time.fromisoformat(a), end=dt.time.fromisoformat(b)))
            for w, a, b in row["slots"] or []
        ]
        rows.append(row)
    return rows


@dataclass
class PublicDetail:
    """An institution's public page: the institution (its district's name, its last list
    change and earliest overdue 责令整改 for ``list_changed_at``), its supervised account if
    active, its courses on sale (``_COURSES_JSON``) and its 处理记录 (as
    enforcement_selectors.institution_record: sanctions, 通报 entries with their notice)."""

    institution: Institution
    account: SupervisedAccount | None
    courses: list
    record: dict


_INSTITUTION_COLUMNS = [f for f in Institution._meta.concrete_fields if f.name != "name_grams"]


def public_detail(pk: int, *, today: dt.date | None = None) -> PublicDetail:
    """``PublicDetail`` in one raw query (the ORM's compiling of four queries cost the page
    more than running them); Institution.DoesNotExist when there is no such institution."""
    from institutions.enforcement_models import EnforcementNotice, NoticeEntry, Sanction

    today = today or timezone.localdate()
    if not 0 < int(pk) <= ID_MAX:  # no such id (and beyond bigint: no SQL error)
        raise Institution.DoesNotExist
    columns = ", ".join(f'i."{f.column}"' for f in _INSTITUTION_COLUMNS)
    sql = f"""
        SELECT {columns}, d."name", a."id", a."kind", a."bank", a."active",
               (SELECT max(l.changed_at) FROM institutions_listchange l
                WHERE l.institution_id = i.id),
               (SELECT min(s.deadline) FROM institutions_sanction s
                WHERE s.institution_id = i.id AND s.kind = %s AND s.closed_on IS NULL
                  AND s.deadline < %s),
               {_COURSES_JSON.format(institution="i.id")},
               (SELECT json_agg(json_build_array(s.id, s.kind, s.decided_on, s.reason,
                                                 s.deadline, s.closed_on)
                                ORDER BY s.decided_on DESC, s.id DESC)
                FROM institutions_sanction s WHERE s.institution_id = i.id),
               (SELECT json_agg(json_build_array(e.id, e.violation, e.outcome, n.id, n.title,
                                                 n.date)
                                ORDER BY n.date DESC, e.id DESC)
                FROM institutions_noticeentry e
                JOIN institutions_enforcementnotice n ON n.id = e.notice_id
                WHERE e.institution_id = i.id)
        FROM institutions_institution i
        JOIN portal_district d ON d.id = i.district_id
        LEFT JOIN institutions_supervisedaccount a ON a.institution_id = i.id
        WHERE i.id = %s
    """
    found = prepared.fetch(sql, [
        Sanction.Kind.RECTIFY.value, today, Course.Filing.APPROVED.value, int(pk),
    ], one=True)  # fmt: skip
    if found is None:
        raise Institution.DoesNotExist
    n = len(_INSTITUTION_COLUMNS)
    # converted as the ORM converts them (list_reasons: jsonb comes as text)
    institution = row_instance(Institution, _INSTITUTION_COLUMNS, found[:n])
    (district_name, account_id, kind, bank, active, last_change, first_overdue, courses,
     sanctions, entries) = found[n:]  # fmt: skip
    institution.district = District(pk=institution.district_id, name=district_name)
    institution.last_list_change, institution.first_overdue = last_change, first_overdue
    account = None
    if account_id is not None:
        account = SupervisedAccount(
            pk=account_id, institution=institution, kind=kind, bank=bank, active=active
        )
    day = dt.date.fromisoformat
    record = {
        "sanctions": [
            Sanction(
                pk=sid,
                institution_id=institution.pk,
                kind=k,
                decided_on=day(decided),
                reason=reason,
                deadline=deadline and day(deadline),
                closed_on=closed and day(closed),
            )  # fmt: skip
            for sid, k, decided, reason, deadline, closed in sanctions or []
        ],
        "notice_entries": [
            NoticeEntry(
                pk=eid,
                institution_id=institution.pk,
                violation=violation,
                outcome=outcome,
                notice=EnforcementNotice(pk=nid, title=title, date=day(date)),
            )  # fmt: skip
            for eid, violation, outcome, nid, title, date in entries or []
        ],
    }
    return PublicDetail(
        institution=institution,
        account=account if account and account.active else None,
        courses=_courses(courses),
        record=record,
    )


_UNSET = object()


def list_changed_at(institution: Institution, *, today: dt.date | None = None):
    """When the institution's list entry last changed: its last recorded change, or the
    moment its licence expired, or an open 责令整改 ran past its deadline, if that came later
    (the colour changed then, at midnight, whatever ran). An institution from ``detail``
    brings both as annotations (no query here)."""
    today = today or timezone.localdate()
    last = getattr(institution, "last_list_change", _UNSET)
    if last is _UNSET:
        last = institution.list_changes.aggregate(at=Max("changed_at"))["at"]
    overdue = getattr(institution, "first_overdue", _UNSET)
    if overdue is _UNSET:
        overdue = (
            colour.overdue_rectifications(today=today)
            .filter(institution=institution)
            .aggregate(first=Min("deadline"))["first"]
        )
    tz = timezone.get_current_timezone()
    moments = []
    expires = institution.licence_expires
    if expires is not None and expires < today:
        moments.append(expires)
    if overdue is not None:
        moments.append(overdue)
    for day in sorted(moments, reverse=True):
        at = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        if last is None or at > last:
            return at
    return last


def board(*, district=None, category=""):
    """挂图作战: each institution's progress on 压减, 营转非 and 资金托管, with counts."""
    qs = Institution.objects.select_related("district").annotate(
        supervised=Count("supervised_account", filter=Q(supervised_account__active=True)),
        last_step=Subquery(
            ListChange.objects.filter(institution=OuterRef("pk")).order_by("-changed_at")
            .values("changed_at")[:1]
        ),
    )  # fmt: skip
    if district:
        qs = qs.filter(district=district)
    if category:
        qs = qs.filter(category=category)
    return qs.order_by("district__code", "governance", "name")


def supervised_accounts():
    return SupervisedAccount.objects.filter(active=True)
