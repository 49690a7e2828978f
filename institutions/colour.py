"""The list colour (white / grey / black) of an institution, derived from its data.

Never a hand-set flag: the same rules run in Python for one institution's page and as a SQL
expression for lists and search, and both read the date, so an institution whose licence
expired this morning is not white this morning (not from the next nightly run).
  black: no licence, licence revoked or expired, or deregistered (注销)
  grey:  licensed, but suspended by staff, fees not supervised, annual review not passed
         within the review period, or an open 责令整改 past its deadline (the deadline day
         itself is still within it: grey from the midnight after it, until closed)
  white: everything in order

Stored as well (issue 20): ``refresh`` writes the verdict onto the institution (list_colour,
list_reasons as codes with their dates, rendered by ``render_reasons``) with ``colour_until``,
the last day that verdict holds by time alone (a licence expiring, a passed review running
out of its validity, an open 责令整改 reaching its deadline). Readers use the stored verdict
only while ``colour_until >= today`` and compute it otherwise, so midnight stays right
whether or not the nightly refresh has run; the triggers of migration 0009 clear
``colour_until`` whenever an input changes, through any writer, and let no one but
``refresh`` write the stored columns.
"""

import datetime as dt
from dataclasses import dataclass
from types import SimpleNamespace

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    DateField,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from institutions.models import (
    AnnualReview,
    Institution,
    Sanction,
    SupervisedAccount,
    TrainingPolicy,
)
from portal.locks import locked

WHITE, GREY, BLACK = "white", "grey", "black"
LABELS = {
    WHITE: gettext_lazy("白名单"),
    GREY: gettext_lazy("灰名单"),
    BLACK: gettext_lazy("黑名单"),
}


@dataclass(frozen=True)
class Verdict:
    colour: str
    reasons: list[str]

    @property
    def label(self) -> str:
        return str(LABELS[self.colour])


FOREVER = dt.date.max  # colour_until of a verdict that time alone never changes
REFRESH_CHUNK = 2000  # institutions locked and written together by one refresh transaction


def _review_since(today: dt.date, policy: TrainingPolicy) -> dt.date:
    return today - relativedelta(months=policy.review_valid_months)


def _review_last_day(passed_on: dt.date, months: int) -> dt.date:
    """The last day on which a review passed on ``passed_on`` still counts: the largest day d
    with d - months <= passed_on (relativedelta clips to a month's end, so search a little)."""
    step = relativedelta(months=months)
    day = passed_on + step
    while day + dt.timedelta(days=1) - step <= passed_on:
        day += dt.timedelta(days=1)
    while day - step > passed_on:
        day -= dt.timedelta(days=1)
    return day


def overdue_rectifications(*, today: dt.date):
    """Open 责令整改 whose deadline has passed on ``today`` (deadline < today)."""
    return Sanction.objects.filter(
        kind=Sanction.Kind.RECTIFY, closed_on__isnull=True, deadline__lt=today
    )


def _open_rectifications():
    return Sanction.objects.filter(
        kind=Sanction.Kind.RECTIFY, closed_on__isnull=True, deadline__isnull=False
    )


def _assess(row, *, today, months, supervised, last_pass, first_deadline):
    """The rules on one institution's facts: (colour, reason codes, colour_until). ``row``
    has the institution's own columns; ``last_pass`` is its latest passed review's date,
    ``first_deadline`` the earliest deadline of its open 责令整改 (None when there is none)."""
    codes, until = [], FOREVER
    licensed = bool(row.licence_number) and not row.licence_revoked
    if licensed and row.licence_expires is not None and row.licence_expires >= today:
        until = row.licence_expires  # black (or another reason) from the midnight after it
    if not row.licence_number:
        codes.append(["no_licence", None])
    elif row.licence_revoked:
        codes.append(["revoked", None])
    elif row.licence_expires is None:
        codes.append(["no_expiry", None])
    elif row.licence_expires < today:
        codes.append(["expired", row.licence_expires.isoformat()])
    if row.governance == Institution.Governance.DEREGISTERED:
        codes.append(["deregistered", None])
    if codes:
        return BLACK, codes, until
    if row.suspended_reason:
        codes.append(["suspended", row.suspended_reason])
    if not supervised:
        codes.append(["unsupervised", None])
    if last_pass is not None and last_pass >= today - relativedelta(months=months):
        until = min(until, _review_last_day(last_pass, months))
    else:
        codes.append(["review", None])
    if first_deadline is not None:
        if first_deadline < today:
            codes.append(["overdue", first_deadline.isoformat()])
        else:
            until = min(until, first_deadline)  # grey from the midnight after it
    if codes:
        return GREY, codes, until
    return WHITE, [["ok", None]], until


def render_reasons(codes) -> list[str]:
    """The stored reason codes as the reader's text (the same sentences ``verdict`` gives)."""
    out = []
    for code, arg in codes:
        if code == "no_licence":
            out.append(_("无办学许可证"))
        elif code == "revoked":
            out.append(_("办学许可证已被吊销"))
        elif code == "expired":
            out.append(_("办学许可证已于 %(date)s 过期") % {"date": dt.date.fromisoformat(arg)})
        elif code == "no_expiry":
            out.append(_("办学许可证未登记有效期"))
        elif code == "deregistered":
            out.append(_("已注销"))
        elif code == "suspended":
            out.append(_("已暂停：%(reason)s") % {"reason": arg})
        elif code == "unsupervised":
            out.append(_("预收费未纳入监管"))
        elif code == "review":
            out.append(_("年检未通过或已逾期"))
        elif code == "overdue":
            out.append(
                _("责令整改逾期未完成（整改期限 %(date)s）") % {"date": dt.date.fromisoformat(arg)}
            )
        elif code == "ok":
            out.append(_("证照有效、年检合格、预收费已纳入监管"))
        else:
            raise ValueError(f"unknown colour reason {code!r}")
    return out


def _facts(institution: Institution, *, today: dt.date):
    return {
        "supervised": SupervisedAccount.objects.filter(
            institution=institution, active=True
        ).exists(),
        "last_pass": AnnualReview.objects.filter(
            institution=institution, result=AnnualReview.Result.PASSED
        ).aggregate(d=Max("date"))["d"],
        "first_deadline": _open_rectifications()
        .filter(institution=institution)
        .aggregate(d=Min("deadline"))["d"],
    }


def verdict(
    institution: Institution, *, today: dt.date | None = None, policy: TrainingPolicy | None = None
) -> Verdict:
    """The colour computed from the institution's data on ``today`` (never the stored one)."""
    today = today or timezone.localdate()
    policy = policy or TrainingPolicy.current()
    colour, codes, _until = _assess(
        institution, today=today, months=policy.review_valid_months,
        **_facts(institution, today=today),
    )  # fmt: skip
    return Verdict(colour, render_reasons(codes))


def is_fresh(institution: Institution, *, today: dt.date) -> bool:
    return (
        institution.colour_until is not None
        and institution.colour_until >= today
        and institution.list_colour in LABELS
    )


def stored_verdict(institution: Institution, *, today: dt.date | None = None) -> Verdict:
    """The stored verdict while it holds (no query), else the computed one."""
    today = today or timezone.localdate()
    if is_fresh(institution, today=today):
        return Verdict(institution.list_colour, render_reasons(institution.list_reasons))
    return verdict(institution, today=today)


_INPUTS_SQL = """
    SELECT i.id, i.licence_number, i.licence_revoked, i.licence_expires, i.governance,
           i.suspended_reason,
           EXISTS (SELECT 1 FROM institutions_supervisedaccount a
                   WHERE a.institution_id = i.id AND a.active),
           (SELECT max(r.date) FROM institutions_annualreview r
            WHERE r.institution_id = i.id AND r.result = %s),
           (SELECT min(s.deadline) FROM institutions_sanction s
            WHERE s.institution_id = i.id AND s.kind = %s AND s.closed_on IS NULL
              AND s.deadline IS NOT NULL),
           COALESCE((SELECT review_valid_months FROM institutions_trainingpolicy WHERE id = 1),
                    %s)
    FROM institutions_institution i WHERE i.id = ANY(%s) ORDER BY i.id
"""
_INPUT_FIELDS = (
    "pk", "licence_number", "licence_revoked", "licence_expires", "governance",
    "suspended_reason", "supervised", "last_pass", "first_deadline", "months",
)  # fmt: skip


def computed_colours(institution_ids, *, today: dt.date | None = None) -> dict[int, str]:
    """The colour of these institutions computed from their inputs, stored nowhere (a
    reader's fallback for rows whose stored colour ran out, e.g. just after midnight before
    the nightly refresh): {id: colour}, in one query."""
    today = today or timezone.localdate()
    ids = sorted({int(i) for i in institution_ids})
    if not ids:
        return {}
    return {pk: colour for pk, colour, _codes, _until in _assessed(ids, today=today)}


def _assessed(ids, *, today: dt.date) -> list[tuple]:
    """[(id, colour, reason codes, colour_until)] of these institutions, their inputs read in
    one query (``_INPUTS_SQL``, the policy's months with them)."""
    with connection.cursor() as cursor:
        cursor.execute(_INPUTS_SQL, [
            AnnualReview.Result.PASSED.value, Sanction.Kind.RECTIFY.value,
            settings.INSTITUTION_REVIEW_VALID_MONTHS, list(ids),
        ])  # fmt: skip
        rows = [SimpleNamespace(**dict(zip(_INPUT_FIELDS, r, strict=True)))
                for r in cursor.fetchall()]  # fmt: skip
    return [
        (row.pk, *_assess(
            row, today=today, months=row.months, supervised=row.supervised,
            last_pass=row.last_pass, first_deadline=row.first_deadline,
        ))
        for row in rows
    ]  # fmt: skip


def refresh(institution_ids, *, today: dt.date | None = None, skip_locked: bool = False):
    """Compute and store the colour of these institutions (in chunks, each in its own
    transaction or the caller's); returns {id: Verdict} of those written. Four queries a
    chunk (the lock timeout, the rows locked, their inputs, the write) and the policy's.
    The rows are locked BEFORE the inputs are read, in a statement of its own (a locking
    SELECT that waited would read the inputs with its older snapshot): a concurrent change
    of an input waits for the lock (its trigger updates the row), so what is stored is never
    older than what it was computed from. ``skip_locked`` (the nightly run) leaves a row
    another transaction holds: stale, so computed by every reader, and refreshed by that
    transaction's service. The policy's months are read with the inputs."""
    today = today or timezone.localdate()
    ids = sorted({int(i) for i in institution_ids})
    written = {}
    if ids:
        # the policy row exists from here on (its creation stales every row: its trigger),
        # so that a later TrainingPolicy.current() does not undo this refresh; its months
        # are read below, under the locks
        TrainingPolicy.current()
    for start in range(0, len(ids), REFRESH_CHUNK):
        chunk = ids[start : start + REFRESH_CHUNK]
        with transaction.atomic():
            mine = list(
                locked(Institution.objects.filter(pk__in=chunk), skip_locked=skip_locked)
                .order_by("pk").values_list("pk", flat=True)
            )  # fmt: skip
            if not mine:
                continue
            values = _assessed(mine, today=today)
            for pk, colour, codes, _until in values:
                written[pk] = Verdict(colour, render_reasons(codes))
            _store(values)
    return written


def _store(values) -> None:
    """One round trip: the refresh's setting on (the guard trigger lets this UPDATE write the
    stored columns), the UPDATE, the setting off again."""
    import json

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('portal.colour_refresh', 'on', true);"
            " UPDATE institutions_institution i SET list_colour = v.colour,"
            " list_reasons = v.reasons::jsonb, colour_until = v.until"
            " FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::date[])"
            " AS v(id, colour, reasons, until) WHERE i.id = v.id;"
            " SELECT set_config('portal.colour_refresh', 'off', true);",
            [
                [v[0] for v in values], [v[1] for v in values],
                [json.dumps(v[2], ensure_ascii=False) for v in values], [v[3] for v in values],
            ],
        )  # fmt: skip


def refresh_due(*, today: dt.date | None = None) -> int:
    """The nightly run: refresh every institution whose stored colour is stale or has run
    out (colour_until < today); returns how many were written."""
    today = today or timezone.localdate()
    ids = list(
        Institution.objects.filter(Q(colour_until__isnull=True) | Q(colour_until__lt=today))
        .order_by("pk").values_list("pk", flat=True)
    )  # fmt: skip
    return len(refresh(ids, today=today, skip_locked=True))


def colour_expression(*, today: dt.date | None = None, policy: TrainingPolicy | None = None):
    """The same rules as ``verdict`` as one SQL CASE, for annotating querysets."""
    today = today or timezone.localdate()
    policy = policy or TrainingPolicy.current()
    return _expression(today=today, since=Value(_review_since(today, policy)))


def _expression(*, today: dt.date, since):
    supervised = Exists(SupervisedAccount.objects.filter(institution=OuterRef("pk"), active=True))
    reviewed = Exists(
        AnnualReview.objects.filter(
            institution=OuterRef("pk"), result=AnnualReview.Result.PASSED, date__gte=since,
        )
    )  # fmt: skip
    overdue = Exists(overdue_rectifications(today=today).filter(institution=OuterRef("pk")))
    black = (
        Q(licence_number="")
        | Q(licence_revoked=True)
        | Q(licence_expires__isnull=True)
        | Q(licence_expires__lt=today)
        | Q(governance=Institution.Governance.DEREGISTERED)
    )
    return Case(
        When(black, then=Value(BLACK)),
        When(~Q(suspended_reason="") | ~supervised | ~reviewed | overdue, then=Value(GREY)),
        default=Value(WHITE),
        output_field=CharField(),
    )


def stored_colour_expression(*, today: dt.date | None = None):
    """The colour for lists and search: the stored one while it holds (colour_until >=
    today), else the full computation (``colour_expression``'s rules; PostgreSQL evaluates a
    CASE branch only for the rows that reach it). Reads the policy inside the SQL: no query
    of its own."""
    today = today or timezone.localdate()
    since = RawSQL(
        "(%s::date - make_interval(months => COALESCE((SELECT review_valid_months"
        " FROM institutions_trainingpolicy WHERE id = 1), %s)))::date",
        [today, settings.INSTITUTION_REVIEW_VALID_MONTHS], output_field=DateField(),
    )  # fmt: skip
    return Case(
        When(colour_until__gte=today, then=F("list_colour")),
        default=_expression(today=today, since=since),
        output_field=CharField(),
    )


_SQL_CACHE: dict = {}


def stored_colour_sql(today: dt.date) -> tuple[str, list]:
    """``stored_colour_expression`` compiled to SQL once per day and process (sql, params),
    for the raw queries of the public search: it refers to the institution's table by its
    name, ``institutions_institution``."""
    key = (connection.alias, today)
    if key not in _SQL_CACHE:
        query = Institution.objects.annotate(c=stored_colour_expression(today=today)).query
        compiler = query.get_compiler(connection=connection)
        sql, params = compiler.compile(query.annotations["c"])
        _SQL_CACHE.clear()  # yesterday's is of no use any more
        _SQL_CACHE[key] = (sql, [str(p) if isinstance(p, str) else p for p in params])
    return _SQL_CACHE[key]
