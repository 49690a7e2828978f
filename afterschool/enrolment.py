"""The course menu and enrolment: a place is never given twice, a waiting list moves up.

Every enrolment and withdrawal locks the course's row first (lock order: the offering, then
its enrolments), so with many parents at once the count of places taken is read and written
by one transaction at a time. tests/afterschool/test_enrolment_concurrency.py proves it on two
real connections, with a control test that shows the race when the lock is off.

Signup: an offering's signup window (optional dates), and in any case enrolment closes when
its first actual lesson (the first not cancelled) starts. A parent can cancel before then;
afterwards only school staff can, and the school's refund rule applies.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from afterschool import fees
from afterschool.lessons import BLOCK_KINDS, is_manager, local_now, term_plan_problem
from afterschool.models import (
    CareSite,
    Enrolment,
    FeeRule,
    LeaveRequest,
    Lesson,
    Offering,
    SchoolPlan,
)
from portal import prepared as statements
from portal.audit import audit_record, create_audited
from portal.locks import lock_timeout_sql, locked
from portal.models import Child, School, SchoolClass, SchoolPeriod
from portal.permissions import is_school_manager, require
from portal.rows import Rows


def _no_pause():
    pass


# Tests widen the window between counting the places and writing the enrolment here.
_after_count_read = _no_pause


def _parent_child(user, child_id) -> Child:
    parent = getattr(user, "parent", None)
    if parent is None:
        raise PermissionDenied
    child = (
        parent.children.select_related("school_class", "school")
        .filter(pk=child_id)
        .order_by()  # one row (the default ordering would join the class, school, district)
        .first()
    )
    if child is None:
        raise PermissionDenied
    return child


def first_starts(offering_ids) -> dict[int, dt.datetime]:
    """When each offering's first actual lesson starts (one query: DISTINCT ON)."""
    rows = (
        Lesson.objects.filter(offering_id__in=list(offering_ids))
        .exclude(status=Lesson.Status.CANCELLED)
        .order_by("offering_id", "date", "start")
        .distinct("offering_id")
        .values_list("offering_id", "date", "start")
    )
    return {o: timezone.make_aware(dt.datetime.combine(d, s)) for o, d, s in rows}


def busy_lessons(child_ids, term_ids, today: dt.date) -> dict[int, list[tuple]]:
    """Each child's lessons still to come (not cancelled, not held) in the courses they hold
    a place in, of the given terms, as they are after moves: child id -> [(date, start, end,
    offering id, offering name)]. One query for any number of children."""
    out: dict[int, list[tuple]] = {c: [] for c in child_ids}
    rows = Lesson.objects.filter(
        offering__enrolments__child_id__in=list(child_ids),
        offering__enrolments__status=Enrolment.Status.ENROLLED,
        offering__plan__term_id__in=list(term_ids),
        status=Lesson.Status.SCHEDULED,
        date__gte=today,
    ).values_list(
        "offering__enrolments__child_id", "date", "start", "end", "offering_id", "offering__name"
    )
    for child_id, *lesson in rows:
        out[child_id].append(tuple(lesson))
    return out


def course_lessons(offering_ids, today: dt.date) -> dict[int, list[tuple]]:
    """The lessons still to come of each course: offering id -> [(date, start, end)]."""
    out: dict[int, list[tuple]] = {o: [] for o in offering_ids}
    for offering_id, day, start, end in Lesson.objects.filter(
        offering_id__in=list(offering_ids), status=Lesson.Status.SCHEDULED, date__gte=today
    ).values_list("offering_id", "date", "start", "end"):
        out[offering_id].append((day, start, end))
    return out


def _clash(offering, lessons, busy, ignore) -> str | None:
    """The first lesson of ``offering`` that meets one of the child's ``busy`` lessons of
    another course (ends and starts may touch), named by date and course."""
    by_day: dict[dt.date, list[tuple]] = {}
    for day, start, end, other_id, other_name in busy:
        if other_id not in (offering.pk, ignore):
            by_day.setdefault(day, []).append((start, end, other_name))
    for day, start, end in sorted(lessons):
        for o_start, o_end, other_name in sorted(by_day.get(day, [])):
            if o_start < end and start < o_end:
                return (
                    f"{day:%Y-%m-%d} {start:%H:%M}-{end:%H:%M} 与已报名的“{other_name}”"
                    f"（{o_start:%H:%M}-{o_end:%H:%M}）时间冲突。"
                )
    return None


def may_serve(offering: Offering, school_id: int) -> bool:
    """Whether pupils of school ``school_id`` may enrol: the offering's school, one of its
    served schools (a holiday host site), or at a community site any school of the site's
    district."""
    if offering.school_id == school_id:
        return True
    if offering.served_schools.filter(pk=school_id).exists():
        return True
    if offering.site_id is not None and offering.site.kind == "community":
        from portal.models import School

        return School.objects.filter(pk=school_id, district_id=offering.site.district_id).exists()
    return False


def whose_pupils(offering: Offering, child: Child) -> str | None:
    """The school rule of ``why_not``, naming it: None when the child's school is served."""
    if may_serve(offering, child.school_id):
        return None
    if offering.site_id is not None and offering.site.kind == "community":
        return f"{offering.site.name}只服务本区学校的学生。"
    if offering.kind == Offering.Kind.HOLIDAY and offering.site_id is not None:
        return (
            f"{offering.site.name}的假期托管只服务指定学校的学生，"
            f"{child.name}所在的{child.school.name}不在其中。"
        )
    return "只能报名孩子所在学校的课程。"


def why_not(
    child: Child,
    offering: Offering,
    *,
    now=None,
    first_start=...,
    enrolled=None,
    lessons=None,
    ignore: int | None = None,
) -> str | None:
    """Why this child cannot enrol in this course, in Chinese; None if they can (apart from
    the places left, which only the locked count decides). The menu passes what it has
    read for all rows at once: ``first_start`` of the course, ``enrolled`` the child's
    lessons still to come (``busy_lessons``) and ``lessons`` the course's
    (``course_lessons``); ``ignore`` is a course the child is leaving (a switch).

    A clash is judged on the real lessons of the term (after moves and cancellations, the
    ones not yet held): a weekly pattern that looks the same never refuses by itself, and
    the lessons of another term never clash."""
    if offering.status != Offering.Status.PUBLISHED:
        return "该课程目前不开放报名。"
    gate = term_plan_problem(offering)
    if gate:
        return gate
    school_problem = whose_pupils(offering, child)
    if school_problem:
        return school_problem
    if child.school_class.grade not in offering.grades:
        grades = "、".join(f"{g}年级" for g in sorted(offering.grades))
        return f"该课程面向{grades}，{child.name}在{child.school_class.grade}年级。"
    now = local_now(now)
    if offering.signup_opens and now.date() < offering.signup_opens:
        return f"报名将于 {offering.signup_opens} 开始。"
    if offering.signup_closes and now.date() > offering.signup_closes:
        return f"报名已于 {offering.signup_closes} 截止。"
    if first_start is ...:
        first_start = first_starts([offering.pk]).get(offering.pk)
    if first_start is not None and now >= first_start:
        return f"课程已于 {timezone.localtime(first_start):%Y-%m-%d %H:%M} 开课，报名已截止。"
    if enrolled is None:
        enrolled = busy_lessons([child.pk], [offering.plan.term_id], now.date())[child.pk]
    if lessons is None:
        lessons = course_lessons([offering.pk], now.date())[offering.pk]
    return _clash(offering, lessons, enrolled, ignore)


class AlreadyEnrolled(ValidationError):
    """A second enrolment of the same child: says so, and changes nothing."""

    def __init__(self, enrolment: Enrolment):
        self.enrolment = enrolment
        name, child = enrolment.offering.name, enrolment.child.name
        if enrolment.status == Enrolment.Status.WAITING:
            message = (
                f"{child}已报名“{name}”，在候补名单第 {waiting_position(enrolment)} 位，"
                "无需重复报名。"
            )
        else:
            message = f"{child}已报名“{name}”，无需重复报名。"
        super().__init__(message)


def _live(offering_id: int, child: Child) -> Enrolment | None:
    return (
        Enrolment.objects.filter(offering_id=offering_id, child=child)
        .exclude(status=Enrolment.Status.WITHDRAWN)
        .select_related("offering", "child")
        .order_by()  # at most one (as_one_live_enrolment)
        .first()
    )


def _places_sql():
    """The enrolment's own columns of ``_locked_reads``: places taken, the waiting list's
    length, the child's live enrolment (the partial unique index as_one_live_enrolment
    answers it). Fixed SQL: only its parameters change."""
    table = Enrolment._meta.db_table
    return [
        ("taken", f"(SELECT count(*) FROM {table} WHERE offering_id = %s AND status = %s)"),
        ("waiting", f"(SELECT count(*) FROM {table} WHERE offering_id = %s AND status = %s)"),
        ("live", f"(SELECT id FROM {table} WHERE offering_id = %s AND child_id = %s"
                 f" AND status <> %s LIMIT 1)"),
    ]  # fmt: skip


_PLACES = _places_sql()


def _versions_sql():
    """Fingerprints of what the enrolment reads of the course before its lock and uses
    under it when it is still the same (issue 20: the course is then not read a second
    time, with the five rows joined to it, while every other parent waits for the lock).
    A fingerprint is the md5 of the whole row as text: any column whose value changes
    changes it. Returns (own, related_joined, related_by_id):

    - ``own``: the course's row, aliased "o" (the enrolment's statement of the course and
      the locking statement);
    - ``related_joined``: the rows read with the course (plan, term, school, site, fee
      rule; "-" for a site or rule the course has not), on the joined rows of the
      enrolment's statement of the course (``_offering_rows``: aliases p, t, s, c, f);
    - ``related_by_id``: the same from their ids (parameters: plan, term, school, site,
      school), for the statement of reads under the lock.
    """
    related = [(SchoolPlan, "id"), (SchoolPeriod, "id"), (School, "id"), (CareSite, "id"),
               (FeeRule, FeeRule._meta.get_field("school").column)]  # fmt: skip

    def fingerprint(parts):
        return "concat_ws('|', " + ", ".join(f"coalesce({p}, '-')" for p in parts) + ")"

    own = "md5(o::text)"
    joined = fingerprint(f"md5({alias}::text)" for alias in "ptscf")
    by_id = fingerprint(
        f'(SELECT md5(r::text) FROM "{m._meta.db_table}" r WHERE r."{c}" = %s)'
        for m, c in related
    )  # fmt: skip
    return own, joined, by_id


_OWN_VERSION, _RELATED_JOINED, _RELATED_BY_ID = _versions_sql()


def _related_ids(offering: Offering) -> list:
    """The parameters of ``_RELATED_BY_ID`` for this course."""
    o = offering
    return [o.plan_id, o.plan.term_id, o.school_id, o.site_id, o.school_id]


def _lesson_rows_sql():
    """The course's lessons but the cancelled ones, in order, as one JSON column of the
    course's read (parameter: the cancelled status): one round trip less per enrolment."""
    table = Lesson._meta.db_table
    return (
        '(SELECT json_agg(json_build_array(l."date", l."start", l."end", l."status")'
        ' ORDER BY l."date", l."start")'
        f' FROM "{table}" l WHERE l."offering_id" = o."id" AND l."status" <> %s)'
    )


_LESSON_ROWS = _lesson_rows_sql()


def _offering_rows(*, lessons: bool = False) -> Rows:
    def t(model):
        return f'"{model._meta.db_table}"'

    return Rows(
        tables=[
            ("o", Offering, f"{t(Offering)} o"),
            ("p", SchoolPlan, f'JOIN {t(SchoolPlan)} p ON p."id" = o."plan_id"'),
            ("t", SchoolPeriod, f'JOIN {t(SchoolPeriod)} t ON t."id" = p."term_id"'),
            ("s", School, f'JOIN {t(School)} s ON s."id" = o."school_id"'),
            ("c", CareSite, f'LEFT JOIN {t(CareSite)} c ON c."id" = o."site_id"'),
            ("f", FeeRule, f'LEFT JOIN {t(FeeRule)} f ON f."school_id" = s."id"'),
        ],
        links=[
            ("o", "plan", "p"),
            ("p", "term", "t"),
            ("o", "school", "s"),
            ("o", "site", "c"),
            ("s", "fee_rule", "f"),
        ],
        where='o."id" = %s',
        extra=[("own_version", _OWN_VERSION), ("related_version", _RELATED_JOINED)]
        + ([("lesson_rows", _LESSON_ROWS)] if lessons else []),
    )


_OFFERING_ROWS = _offering_rows()
_OFFERING_WITH_LESSONS = _offering_rows(lessons=True)


def _offering_for_enrolment(offering_id: int, *, lessons: bool = False) -> Offering:
    """The course with what the enrolment reads of it: its plan and term, school, site (a
    site's gate and a holiday week's wording) and the school's fee rule (the bill's reads
    are built before the lock), and the fingerprints ``own_version`` and
    ``related_version`` (``_versions_sql``), in one fixed statement (``Rows``).
    ``lessons``: with ``lesson_rows``, its lessons as ``_lessons_of`` reads them."""
    if lessons:
        offering = _OFFERING_WITH_LESSONS.get([Lesson.Status.CANCELLED.value, offering_id])
    else:
        offering = _OFFERING_ROWS.get([offering_id])
    if offering is None:
        raise Offering.DoesNotExist("Offering matching query does not exist.")
    return offering


def _lock_offering(offering_id: int, *, lock: bool = True) -> str:
    """The course's row lock (lock order: the offering first), in one statement that
    answers the fingerprint of the row as it is once the lock is held (a row updated while
    we waited is read again by PostgreSQL, in its new version). ``lock=False``: the same
    read without the lock (the control test of the race)."""
    sql = f'SELECT {_OWN_VERSION} FROM "{Offering._meta.db_table}" o WHERE o."id" = %s'
    if lock:
        # the lock timeout as locked() sets it for every row lock, in the same round trip
        # (the result is the last statement's)
        sql = f"{lock_timeout_sql()}; {sql} FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, [offering_id])
        row = cursor.fetchone()
    if row is None:
        raise Offering.DoesNotExist
    return row[0]


def _prepare_reads(offering, child, today: dt.date, rule):
    """The one statement of ``_locked_reads``, built before the course's lock (so that its
    Python is not spent holding it): (sql, params, names, key), ``key`` being what the
    bill's part depends on (``fees.place_bill_key``), checked again under the lock. For
    a course read by ``_offering_for_enrolment``, the column "related" is the fingerprint
    of the rows read with it (``_versions_sql``), as they are under the lock."""
    bill, bill_params, key = fees.place_bill_reads(offering, child.pk, today, rule=rule)
    columns = [*_PLACES, *bill]
    S = Enrolment.Status
    params = [offering.pk, S.ENROLLED.value, offering.pk, S.WAITING.value, offering.pk, child.pk,
              S.WITHDRAWN.value, *bill_params]  # fmt: skip
    if hasattr(offering, "related_version"):  # read by _offering_for_enrolment
        columns.append(("related", _RELATED_BY_ID))
        params.extend(_related_ids(offering))
    sql = "SELECT " + ", ".join(column for _name, column in columns)
    return sql, params, [name for name, _column in columns], key


def _locked_reads(offering, child, today: dt.date, rule, prepared=None) -> dict:
    """Inside the offering's lock, in one statement: the places taken ("taken"), the
    waiting list's length ("waiting"), the child's live enrolment in the course ("live",
    an id or None) and what the bill of a new place reads (``fees.place_bill_reads``).
    It must run after the lock is held: a statement that waits for a row lock keeps the
    snapshot it started with for everything but the locked row. ``prepared``: the
    statement built before the lock (``_prepare_reads``), used when what it depends on is
    still the same under the lock."""
    key = fees.place_bill_key(offering, child.pk, today, rule=rule)
    if prepared is None or prepared[3] != key:
        prepared = _prepare_reads(offering, child, today, rule)
    sql, params, names, _key = prepared
    # a statement prepared once per connection (portal.prepared): its planning would be
    # PostgreSQL's time spent holding the course's lock (0.6 -> 0.4 ms of its CPU with
    # 2,000 enrolments in the course)
    return dict(zip(names, statements.fetch(sql, params, one=True), strict=True))


def _take(offering, child, user, *, waiting_allowed=True, read=None, today=None) -> Enrolment:
    """Inside the offering's lock: a place if one is left, else the waiting list. ``read``:
    ``_locked_reads`` of this course and child for ``today``, read under the lock by the
    caller.

    The enrolment comes back with ``bill`` (the bill issued with the place, or None) and
    ``position`` (on the waiting list: its place in the line when it joined, which is
    ``waiting_position`` at commit: every waiting row is written under this lock, earlier)."""
    today = today or timezone.localdate()
    rule = fees.rule_of(offering)  # no query when read with the locked row
    if read is None:
        read = _locked_reads(offering, child, today, rule)
    _after_count_read()
    taken = read["taken"]
    status = Enrolment.Status.ENROLLED if taken < offering.capacity else Enrolment.Status.WAITING
    if status == Enrolment.Status.WAITING and not waiting_allowed:
        raise ValidationError(f"“{offering.name}”名额已满。")
    # the row and its audit row in one statement (portal.audit.create_audited)
    enrolment = create_audited(
        Enrolment(offering=offering, child=child, status=status, by=user),
        actor=user,
        action=f"afterschool.enrolment.{status}",
        new={"offering": offering.pk, "child": child.pk},
    )
    enrolment.bill = enrolment.position = None
    if status == Enrolment.Status.ENROLLED:  # a waiting place is never billed
        enrolment.bill = fees.bill_on_enrolment(
            enrolment, offering, actor=user, today=today, read=read, rule=rule
        )
    else:
        enrolment.position = read["waiting"] + 1
    return enrolment


def take_locked(offering, child, user, *, full: bool = False) -> Enrolment:
    """For another kind of care's own enrolment service (lunch care's beds): the caller
    holds the course's lock (``_lock_course`` or ``locked``) and has made its own checks;
    a place if one is left and ``full`` is not set by the caller's own capacity (beds),
    else the waiting list. Bills, audit and waiting list as for any course."""
    if full:
        enrolment = Enrolment.objects.create(
            offering=offering, child=child, status=Enrolment.Status.WAITING, by=user
        )
        audit_record(
            actor=user,
            action=f"afterschool.enrolment.{Enrolment.Status.WAITING}",
            obj=enrolment,
            new={"offering": offering.pk, "child": child.pk},
        )
        return enrolment
    return _take(offering, child, user)


def _child_rows() -> Rows:
    table, through = Enrolment._meta.db_table, Child.parents.through._meta.db_table
    child, klass, school = (m._meta.db_table for m in (Child, SchoolClass, School))
    return Rows(
        tables=[
            ("c", Child, f'"{child}" c'),
            ("k", SchoolClass, f'JOIN "{klass}" k ON k."id" = c."school_class_id"'),
            ("s", School, f'JOIN "{school}" s ON s."id" = c."school_id"'),
            ("", None, f'JOIN "{through}" cp ON cp."child_id" = c."id"'),
        ],
        links=[("c", "school_class", "k"), ("c", "school", "s")],
        where='cp."parent_id" = %s AND c."id" = %s',
        extra=[
            ("live_id", f"(SELECT e.id FROM {table} e WHERE e.child_id = c.id"
                        " AND e.offering_id = %s AND e.status <> %s LIMIT 1)"),
            ("holds_places", f"EXISTS (SELECT 1 FROM {table} e WHERE e.child_id = c.id"
                             " AND e.status = %s AND e.offering_id <> %s)"),
        ],
    )  # fmt: skip


_CHILD_ROWS = _child_rows()


def _child_for(user, child_id, offering_id) -> Child:
    """``_parent_child`` in one query with what the enrolment reads of the child before the
    lock: ``live_id`` (a live enrolment in this course) and ``holds_places`` (a place in
    another course, whose lessons may clash). One fixed statement (``Rows``): the ORM
    would build and compile it on every request."""
    parent = getattr(user, "parent", None)
    if parent is None:
        raise PermissionDenied
    S = Enrolment.Status
    child = _CHILD_ROWS.get(
        [offering_id, S.WITHDRAWN.value, S.ENROLLED.value, offering_id, parent.pk, child_id]
    )
    if child is None:
        raise PermissionDenied
    return child


def _lessons_of(rows, today: dt.date):
    """The course's lessons (not cancelled) as the course's read brought them
    (``lesson_rows``, [[date, start, end, status]] in JSON, in order): when the first
    starts, and those still to come [(date, start, end)], as ``first_starts`` and
    ``course_lessons`` give."""
    first, coming = None, []
    for day, start, end, status in rows or ():
        day, start = dt.date.fromisoformat(day), dt.time.fromisoformat(start)
        if first is None:
            first = timezone.make_aware(dt.datetime.combine(day, start))
        if status == Lesson.Status.SCHEDULED and day >= today:
            coming.append((day, start, dt.time.fromisoformat(end)))
    return first, coming


def enrol(*, user, child_id: int, offering_id: int, lock: bool = True, now=None) -> Enrolment:
    """Enrol a parent's own child; a full course puts them on the waiting list (no payment
    is ever asked for a waiting place). Enrolling again is refused with "已报名"
    (``AlreadyEnrolled``, which carries the live enrolment) and changes nothing. The
    enrolment comes back with ``bill`` and ``position`` (``_take``).

    Queries (tests/afterschool/test_enrolment_queries.py pins them): before the lock the
    child with their live enrolment, the course (with the fingerprints of its row and of
    the rows read with it), its lessons (and the child's other lessons only when they hold
    another place); the lock, in a statement that answers only the course row's
    fingerprint; under the lock one statement of reads (``_locked_reads``, the other
    fingerprint with them), then the writes. When a fingerprint differs (the course, its
    plan, term, site, school or fee rule changed since they were read), the course is read
    again under the lock and the reads with it."""
    child = _child_for(user, child_id, offering_id)
    if child.live_id is not None:
        raise AlreadyEnrolled(_live(offering_id, child))
    # The checks that read other rows (grade, school, signup, the timetable clash) run
    # before the course's lock, so that a burst of parents holds it only for the count and
    # the writes (bench/afterschool_burst.py). The lock of this course would not keep a
    # clash with another course out anyway; what can change under us is the course's row
    # and the rows read with it, checked under the lock by their fingerprints.
    offering = _offering_for_enrolment(offering_id, lessons=True)
    if offering.kind == Offering.Kind.LUNCH:
        # a month of lunch care needs its days and rest arrangement (afterschool.lunch)
        raise ValidationError("午托请在午托页面报名，选择午休方式和天数。")
    now = local_now(now)
    first_start, lessons = _lessons_of(offering.lesson_rows, now.date())
    busy = (
        busy_lessons([child.pk], [offering.plan.term_id], now.date())[child.pk]
        if child.holds_places
        else []
    )
    problem = why_not(
        child, offering, now=now, first_start=first_start, enrolled=busy, lessons=lessons
    )
    if problem:
        raise ValidationError(problem)
    prepared = _prepare_reads(offering, child, timezone.localdate(), fees.rule_of(offering))
    with transaction.atomic():
        today = timezone.localdate()
        # The course as read before the lock is used under it when it is still the same:
        # its own row (the lock's statement answers its fingerprint) and the rows read with
        # it (the one statement of reads answers theirs, after the lock is held). Else it is
        # read again, under the lock, as it is now.
        read = None
        if _lock_offering(offering_id, lock=lock) == offering.own_version:
            read = _locked_reads(offering, child, today, fees.rule_of(offering), prepared)
        if read is None or read["related"] != offering.related_version:
            offering = _offering_for_enrolment(offering_id)
            read = _locked_reads(offering, child, today, fees.rule_of(offering), prepared)
        if read["live"] is not None:  # a second tap that waited for the first
            raise AlreadyEnrolled(_live(offering_id, child))
        if offering.status != Offering.Status.PUBLISHED:
            raise ValidationError("该课程目前不开放报名。")
        gate = term_plan_problem(offering)  # a term closed while we waited for the lock
        if gate:
            raise ValidationError(gate)
        return _take(offering, child, user, read=read, today=today)


def waiting_position(enrolment: Enrolment) -> int | None:
    if enrolment.status != Enrolment.Status.WAITING:
        return None
    earlier = Q(created_at__lt=enrolment.created_at) | Q(
        created_at=enrolment.created_at, id__lt=enrolment.id
    )
    ahead = Enrolment.objects.filter(
        earlier, offering_id=enrolment.offering_id, status=Enrolment.Status.WAITING
    ).count()
    return ahead + 1


def started(offering_id: int, now=None) -> bool:
    first = first_starts([offering_id]).get(offering_id)
    return first is not None and local_now(now) >= first


def _leave(enrolment: Enrolment, *, actor, reason: str = "", now=None):
    """Take the child out (the caller holds the offering and enrolment locks): the place
    goes to the first waiting, the fees follow the school's rule."""
    was = enrolment.status
    enrolment.status = Enrolment.Status.WITHDRAWN
    enrolment.save(update_fields=["status", "changed_at"])
    new = {"reason": reason} if reason else None
    audit_record(
        actor=actor,
        action="afterschool.enrolment.withdrawn",
        obj=enrolment,
        old={"status": was},
        new=new,
    )
    withdraw_pending_leaves(enrolment, actor=actor)
    if was == Enrolment.Status.ENROLLED:
        fees.on_withdrawal(enrolment, actor=actor)
        _promote(enrolment.offering_id, actor=actor, now=now)


def withdraw_pending_leaves(enrolment: Enrolment, *, actor) -> int:
    """The child's leave requests still awaiting a decision in the course they leave are
    withdrawn with them (inside the course lock)."""
    pending = list(
        locked(
            LeaveRequest.objects.filter(
                child_id=enrolment.child_id,
                lesson__offering_id=enrolment.offering_id,
                status=LeaveRequest.Status.REQUESTED,
            ),
            of=("self",),
        ).order_by("pk")
    )
    for leave in pending:
        leave.status = LeaveRequest.Status.WITHDRAWN
        leave.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action="afterschool.leave.withdrawn",
            obj=leave,
            new={"reason": "退出课程"},
        )
    return len(pending)


def _lock_course(offering_id: int) -> None:
    """The course's row lock: one enrolment, withdrawal or switch of a course at a time
    (tests/afterschool/test_edges_withdrawal_concurrency.py shows the race without it)."""
    locked(Offering.objects.filter(pk=offering_id)).get()


def _locked_enrolment(enrolment_id: int) -> Enrolment:
    offering_id = Enrolment.objects.values_list("offering_id", flat=True).get(pk=enrolment_id)
    _lock_course(offering_id)  # lock order: offering first
    return locked(
        Enrolment.objects.select_related("child", "offering__plan__term"), of=("self",)
    ).get(pk=enrolment_id)


def withdraw(*, user, enrolment_id: int, now=None) -> Enrolment:
    """A parent cancels: a waiting place at any time, a place before the course's first
    lesson starts; afterwards the school withdraws the child (``withdraw_by_staff``)."""
    parent = getattr(user, "parent", None)
    if parent is None:
        raise PermissionDenied
    with transaction.atomic():
        enrolment = _locked_enrolment(enrolment_id)
        if not enrolment.child.parents.filter(pk=parent.pk).exists():
            raise PermissionDenied
        if enrolment.status == Enrolment.Status.WITHDRAWN:
            return enrolment
        if enrolment.status == Enrolment.Status.COMPLETED:
            raise ValidationError("课程已结课，无需退课。")
        if enrolment.status == Enrolment.Status.ENROLLED and started(enrolment.offering_id, now):
            raise ValidationError("课程已开课，退课请联系学校办理，费用按学校规则退还。")
        _leave(enrolment, actor=user, now=now)
    return enrolment


def withdraw_by_staff(*, user, enrolment_id: int, reason: str, now=None) -> Enrolment:
    """The principal or 教导处 take a child out at any time, with a reason; the refund
    follows the school's rule."""
    require(is_school_manager(user))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写退课原因。"})
    with transaction.atomic():
        enrolment = _locked_enrolment(enrolment_id)
        if not is_manager(user, enrolment.offering.school_id):
            raise PermissionDenied
        if enrolment.status == Enrolment.Status.COMPLETED:
            raise ValidationError("课程已结课，无需退课。")
        if enrolment.status != Enrolment.Status.WITHDRAWN:
            _leave(enrolment, actor=user, reason=reason, now=now)
    return enrolment


def switch(*, user, enrolment_id: int, to_offering_id: int, now=None) -> Enrolment:
    """Move a child from one course to another in one step: it happens whole (a place in
    the new course, the old one given up) or not at all (the child stays where they were).
    A parent may switch while they could still cancel the old place."""
    parent = getattr(user, "parent", None)
    if parent is None:
        raise PermissionDenied
    current = (
        Enrolment.objects.select_related("child__school_class", "offering")
        .filter(pk=enrolment_id, child__parents=parent, status=Enrolment.Status.ENROLLED)
        .first()
    )
    if current is None:
        raise PermissionDenied
    if current.offering_id == to_offering_id:
        return current
    target = Offering.objects.select_related("plan__term").get(pk=to_offering_id)
    if BLOCK_KINDS & {target.kind, current.offering.kind}:
        # a holiday week or a lunch month is enrolled on its own page, with its own rules
        # (the week's activities, the lunch days and arrangement): never by a switch
        raise ValidationError("假期托管和午托不能换课，请在假期托管或午托页面退出后重新报名。")
    problem = why_not(current.child, target, now=now, ignore=current.offering_id)
    if problem:
        raise ValidationError(problem)
    if started(current.offering_id, now):
        raise ValidationError(f"“{current.offering.name}”已开课，不能自行换课，请联系学校。")
    with transaction.atomic():
        # both courses locked, in primary-key order like every lock of the app
        for pk in sorted([current.offering_id, to_offering_id]):
            _lock_course(pk)
        current = locked(
            Enrolment.objects.select_related("child", "offering__plan__term"), of=("self",)
        ).get(pk=enrolment_id)
        if current.status != Enrolment.Status.ENROLLED:
            raise ValidationError("原课程的报名已变更，请刷新后再试。")
        target = Offering.objects.select_related("plan__term").get(pk=to_offering_id)
        if target.status != Offering.Status.PUBLISHED:
            raise ValidationError("该课程目前不开放报名。")
        gate = term_plan_problem(target)
        if gate:
            raise ValidationError(gate)
        if _live(to_offering_id, current.child) is not None:
            raise ValidationError("孩子已在该课程的报名或候补名单中。")
        moved = _take(target, current.child, user, waiting_allowed=False)
        _leave(current, actor=user, reason=f"换课到“{target.name}”", now=now)
        audit_record(
            actor=user,
            action="afterschool.enrolment.switched",
            obj=moved,
            old={"offering": current.offering_id},
            new={"offering": target.pk},
        )
    return moved


# A kind of care with a capacity of its own besides places (lunch care's beds) narrows
# who on the waiting list may move up: kind -> f(offering, waiting queryset) -> queryset.
WAITING_ELIGIBLE: dict = {}


def _promote(offering_id: int, *, actor, now=None) -> Enrolment | None:
    """Move the first waiting child up, in the order they asked (inside the offering lock)."""
    offering = Offering.objects.select_related("plan__term").get(pk=offering_id)
    taken = Enrolment.objects.filter(offering=offering, status=Enrolment.Status.ENROLLED).count()
    if taken >= offering.capacity:
        return None
    waiting = Enrolment.objects.filter(offering=offering, status=Enrolment.Status.WAITING)
    narrow = WAITING_ELIGIBLE.get(offering.kind)
    if narrow is not None:
        waiting = narrow(offering, waiting)
    first = locked(waiting).order_by("created_at", "id").first()
    if first is None:
        return None
    first.status = Enrolment.Status.ENROLLED
    first.save(update_fields=["status", "changed_at"])
    audit_record(
        actor=actor,
        action="afterschool.enrolment.promoted",
        obj=first,
        old={"status": "waiting"},
        new={"status": "enrolled"},
    )
    # billed from the first lesson that has not started (in the evening, not today's)
    upcoming = next_lesson_day(offering_id, now)
    if upcoming is not None:
        fees.bill_on_enrolment(first, offering, actor=actor, today=upcoming)
    return first


def next_lesson_day(offering_id: int, now=None) -> dt.date | None:
    """The day of the course's first lesson (not cancelled) that has not started yet."""
    now = local_now(now)
    lesson = (
        Lesson.objects.filter(offering_id=offering_id, status=Lesson.Status.SCHEDULED)
        .filter(Q(date__gt=now.date()) | Q(date=now.date(), start__gt=now.time()))
        .order_by("date", "start")
        .first()
    )
    return None if lesson is None else lesson.date
