"""The compliance engine: a registry of checks, and runs that turn them into findings.

Each app declares its checks in its ``checks.py``:

    @register("portal.school.no_principal", severity=Finding.Severity.WARNING,
              title="学校没有校长账号", over=lambda: School.objects.all())
    def school_without_principal(for_date, schools):
        for school in schools.filter(...):
            yield Found(subject=school, school=school, message="...")

A check with ``over`` is split into chunks of primary-key ranges that several Celery
workers share; one without it runs as a single chunk. A run records a CheckRun; findings
are keyed by (rule, subject) so a re-run of the same night updates them, and a finding the
run no longer sees is resolved, never deleted. A rule whose chunk failed resolves nothing in
that run: an error must not look like a clean bill of health.

One run at a time: a run holds a claim for its whole duration, its CheckRun row in status
"running". ``run_start`` creates that row under a PostgreSQL advisory lock after checking no
other run holds the claim, so a second ``run_checks``, beat tick or admin trigger is refused
(``RunInProgress``) and touches no finding; the claim spans every chunk, whichever worker runs
it. Only the run that still holds its claim, and is the latest run, writes: a chunk of a run
that is no longer running (marked failed by ``sweep_stale_runs`` after
``PORTAL_CHECK_RUN_TIMEOUT``, or finished) or that a newer run has superseded records,
resolves and reopens nothing, however late its worker delivers it, so the next run can go
ahead safely. The last chunk to end finishes the run, once, whatever order the chunks end in.
A run's new serious findings are told to the bureau staff of their line, its new findings to
the schools they are about (portal.notices, once the finish commits).
"""

import datetime as dt
import logging
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, OperationalError, models, transaction
from django.utils import timezone

from portal.locks import is_lock_timeout, lock_timeout, locked
from portal.models import CheckChunk, CheckRun, Finding

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key serializing the creation of runs (any constant bigint; the
# lock is per database)
RUN_CLAIM_LOCK = 0x706F7274616C4352  # "portalCR"


class RunInProgress(Exception):
    """Another check run holds the claim; this one was not started."""

    def __init__(self, other: CheckRun | None):
        self.other = other
        if other is None:  # the claim lock itself timed out: a start is under way right now
            super().__init__(
                "另一次检查正在启动，本次未运行，检查发现未作任何改动；请稍后再试。"
                " / Another check run is being started; this one was not started."
            )
            return
        started = timezone.localtime(other.started_at).strftime("%Y-%m-%d %H:%M:%S")
        super().__init__(
            f"已有一次检查正在运行（编号 {other.pk}，检查日期 {other.for_date}，"
            f"{started} 开始，触发方式 {other.trigger}），本次未运行，检查发现未作任何改动；"
            f"请等它结束后再试。"
            f" / A check run is already running (run {other.pk} for {other.for_date}, "
            f"started {started}, trigger {other.trigger}); this one was not started."
        )


@dataclass
class Found:
    message: str
    subject: models.Model | None = None
    key: str = ""  # identifies a subject-less finding within its rule (e.g. a year)
    school: models.Model | None = None
    institution_id: int | None = None
    severity: str | None = None  # overrides the rule's default


@dataclass
class Check:
    code: str
    title: str
    severity: str
    func: Callable
    over: Callable | None = None
    chunk_size: int | None = None


@dataclass
class ChunkSpec:
    rule: str
    lo: int | None = None
    hi: int | None = None

    def as_tuple(self):
        return (self.rule, self.lo, self.hi)


@dataclass
class RunResult:
    run: CheckRun
    errors: list[str] = field(default_factory=list)


_registry: dict[str, Check] = {}


def register(code, *, title, severity, over=None, chunk_size=None):
    def decorator(func):
        if code in _registry and _registry[code].func is not func:
            raise ValueError(f"check {code} registered twice")
        _registry[code] = Check(code, title, severity, func, over, chunk_size)
        return func

    return decorator


def registry() -> dict[str, Check]:
    """All checks, after every installed app's checks module has been imported."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("checks")
    return dict(sorted(_registry.items()))


def _chunks_for(check: Check) -> list[ChunkSpec]:
    if check.over is None:
        return [ChunkSpec(check.code)]
    size = check.chunk_size or settings.PORTAL_CHECK_CHUNK_SIZE
    pks = list(check.over().order_by("pk").values_list("pk", flat=True))
    if not pks:
        return [ChunkSpec(check.code, 0, 0)]
    return [
        ChunkSpec(check.code, pks[i], pks[min(i + size, len(pks)) - 1])
        for i in range(0, len(pks), size)
    ]


def run_start(*, for_date: dt.date, trigger: str = "manual", rules=None) -> tuple:
    checks = registry()
    if rules:
        unknown = set(rules) - set(checks)
        if unknown:
            raise ValueError(f"unknown rules: {', '.join(sorted(unknown))}")
        checks = {code: checks[code] for code in rules}
    specs = [spec for check in checks.values() for spec in _chunks_for(check)]
    with transaction.atomic():
        _claim()
        run = CheckRun.objects.create(for_date=for_date, trigger=trigger, chunks_total=len(specs))
        CheckChunk.objects.bulk_create(
            [CheckChunk(run=run, rule=s.rule, lo=s.lo, hi=s.hi) for s in specs]
        )
    return run, specs


def _claim():
    """Inside the transaction that creates a run: raise RunInProgress if another run holds
    the claim. The advisory lock serializes the creation of runs until that transaction
    ends, so "no run is running, create one" is one step (two starts at once: the second
    waits for the first to commit, then sees it running). A run past its timeout is marked
    failed first, so it does not block this one even before the periodic sweep."""
    lock_timeout()
    try:
        with transaction.atomic(), transaction.get_connection().cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RUN_CLAIM_LOCK])
    except OperationalError as exc:
        if is_lock_timeout(exc):
            raise RunInProgress(None) from exc
        raise
    sweep_stale_runs()
    other = CheckRun.objects.filter(status=CheckRun.Status.RUNNING).order_by("pk").first()
    if other is not None:
        raise RunInProgress(other)


def _lock_if_running(run_id: int) -> CheckRun | None:
    """The run, row-locked until the end of the transaction, if it still holds its claim.
    FOR NO KEY UPDATE: it waits for (and makes wait) the sweeper and the other chunks'
    final step, but not the findings' foreign-key checks on the run (FOR KEY SHARE)."""
    return locked(
        CheckRun.objects.filter(pk=run_id, status=CheckRun.Status.RUNNING), no_key=True
    ).first()


def stale_cutoff(now=None) -> dt.datetime:
    """Runs started before this are past PORTAL_CHECK_RUN_TIMEOUT (at exactly the timeout a
    run is still within it)."""
    return (now or timezone.now()) - dt.timedelta(seconds=settings.PORTAL_CHECK_RUN_TIMEOUT)


def sweep_stale_runs(now=None) -> list[int]:
    """Mark failed every run still running after PORTAL_CHECK_RUN_TIMEOUT (its worker died
    or hangs), resolving nothing: its findings stay as they are and the next run goes
    ahead. A run whose row is locked at this moment is committing a chunk or finishing,
    hence alive; the next sweep looks again. Returns the ids marked failed."""
    now = now or timezone.now()
    with transaction.atomic():
        stale = locked(
            CheckRun.objects.filter(
                status=CheckRun.Status.RUNNING, started_at__lt=stale_cutoff(now)
            ).order_by("pk"),
            no_key=True,
            skip_locked=True,
        )
        ids = list(stale.values_list("pk", flat=True))
        if ids:
            minutes = settings.PORTAL_CHECK_RUN_TIMEOUT / 60
            CheckRun.objects.filter(pk__in=ids).update(
                status=CheckRun.Status.FAILED,
                finished_at=now,
                error=(
                    f"超过 {minutes:g} 分钟未完成，已标记为失败，未消除任何检查发现"
                    f"（PORTAL_CHECK_RUN_TIMEOUT）。"
                ),
            )
            log.warning("check runs %s timed out: marked failed, nothing resolved", ids)
    return ids


def _subject_key(found: Found, content_type) -> str:
    if found.subject is not None:
        return f"{content_type.app_label}.{content_type.model}:{found.subject.pk}"
    if not found.key:
        raise ValueError("a finding needs a subject or a key")
    return f"key:{found.key}"


def _values(run: CheckRun, check: Check, found: Found) -> dict:
    return {**_seen(check, found, run.for_date), "last_run": run}


def _seen(check: Check, found: Found, day: dt.date) -> dict:
    return {
        "severity": found.severity or check.severity,
        "message": found.message,
        "subject_repr": str(found.subject)[:200] if found.subject is not None else found.key,
        "school": found.school,
        "institution_id": found.institution_id,
        "last_seen": day,
    }


def _open_or_refresh(check: Check, found: Found, day: dt.date, values: dict) -> bool:
    """Open the finding of ``check`` about ``found`` or refresh the open one; True if new."""
    content_type = (
        ContentType.objects.get_for_model(found.subject) if found.subject is not None else None
    )
    key = _subject_key(found, content_type)
    open_rows = Finding.objects.filter(rule=check.code, subject_key=key, resolved_at=None)
    if open_rows.update(**values):
        return False
    try:
        # savepoint: a concurrent run may open the same finding first
        with transaction.atomic():
            Finding.objects.create(
                rule=check.code,
                subject_key=key,
                content_type=content_type,
                object_id=str(found.subject.pk) if found.subject is not None else "",
                first_seen=day,
                **values,
            )
        return True
    except IntegrityError:
        open_rows.update(**values)
        return False


def _record(run: CheckRun, check: Check, found: Found) -> bool:
    """Open or refresh one finding of a run; True if it is new."""
    return _open_or_refresh(check, found, run.for_date, _values(run, check, found))


def open_finding(code: str, found: Found, *, day: dt.date) -> Finding:
    """Open (or refresh) the finding of the registered check ``code`` about ``found`` now,
    between nightly runs: for a service that sees the breach itself (an inspection's failed
    item). Keyed as the runs key it, so the next run keeps it, and resolves it once the
    breach is gone."""
    check = registry()[code]
    _open_or_refresh(check, found, day, _seen(check, found, day))
    content_type = (
        ContentType.objects.get_for_model(found.subject) if found.subject is not None else None
    )
    return Finding.objects.get(
        rule=code, subject_key=_subject_key(found, content_type), resolved_at=None
    )


UPDATED = [
    "severity",
    "message",
    "subject_repr",
    "school",
    "institution_id",
    "last_seen",
    "last_run",
]


def _record_many(run: CheckRun, check: Check, founds: list[Found]) -> int:
    """Open or refresh a chunk's findings in a few statements (one read, one update, one bulk
    insert) instead of two or three per finding; returns how many are new. Should a
    concurrent run open one of them first, it falls back to one at a time."""
    if not founds:
        return 0
    keyed = {}
    for found in founds:
        content_type = (
            ContentType.objects.get_for_model(found.subject) if found.subject is not None else None
        )
        keyed[_subject_key(found, content_type)] = (found, content_type)
    existing = dict(
        Finding.objects.filter(
            rule=check.code, resolved_at=None, subject_key__in=list(keyed)
        ).values_list("subject_key", "pk")
    )
    _refresh([(pk, _values(run, check, keyed[key][0])) for key, pk in existing.items()])
    new = [
        Finding(
            rule=check.code,
            subject_key=key,
            content_type=content_type,
            object_id=str(found.subject.pk) if found.subject is not None else "",
            first_seen=run.for_date,
            **_values(run, check, found),
        )
        for key, (found, content_type) in keyed.items()
        if key not in existing
    ]
    try:
        with transaction.atomic():
            Finding.objects.bulk_create(new, batch_size=1000)
        return len(new)
    except IntegrityError:
        return sum(_record(run, check, keyed[f.subject_key][0]) for f in new)


def _refresh(rows: list[tuple[int, dict]]):
    """Set the UPDATED fields of open findings, given as (pk, values), in one statement:
    UPDATE ... FROM unnest(one array per column). Django's bulk_update builds a CASE per
    field and row, which cost about 3 ms of Python a finding (bench/checks_scale.py: 1.2 s
    for the 400 findings of one chunk), the larger part of a run whose findings stay open."""
    if not rows:
        return
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    fields = [Finding._meta.get_field(name) for name in UPDATED]
    pk = Finding._meta.pk
    arrays = [[row_pk for row_pk, _ in rows]]
    casts = [pk.rel_db_type(connection)]
    for f in fields:
        column = [values[f.name] for _, values in rows]
        if f.is_relation:  # a model instance (or None): its key
            column = [getattr(v, "pk", v) for v in column]
        else:
            column = [f.get_db_prep_save(v, connection) for v in column]
        arrays.append(column)
        casts.append(f.db_type(connection))
    names = ["id"] + [f"v{i}" for i in range(len(fields))]
    sql = (
        f"UPDATE {quote(Finding._meta.db_table)} AS f SET "
        + ", ".join(f"{quote(f.column)} = v.v{i}" for i, f in enumerate(fields))
        + " FROM unnest("
        + ", ".join(f"%s::{cast}[]" for cast in casts)
        + f") AS v({', '.join(names)}) WHERE f.{quote(pk.column)} = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)


class _NotCurrent(Exception):
    pass


def _lock_if_current(run_id: int) -> CheckRun | None:
    """The run, row-locked until the end of the transaction, if it may still write: it holds
    its claim (status running) and it is the latest run (no run was started after it). Runs
    are created one at a time under the claim lock, so the latest run is the one with the
    highest id; an older run that still says "running" (its claim bypassed, or a row put
    back by hand) must not resolve or reopen what a newer run saw."""
    run = _lock_if_running(run_id)
    if run is None:
        return None
    newer = _newer_run(run_id)
    if newer is not None:
        log.warning("run %s is superseded by run %s: it writes nothing", run_id, newer)
        return None
    return run


def _newer_run(run_id: int) -> int | None:
    """The id of the first run started after this one, if any."""
    return (
        CheckRun.objects.filter(pk__gt=run_id).order_by("pk").values_list("pk", flat=True).first()
    )


def run_chunk(run_id: int, rule: str, lo, hi) -> int:
    """Run one chunk of a run and, if it is the run's last chunk, finish the run.

    A chunk of a run that may no longer write (marked failed, finished, or superseded by a
    newer run) records nothing: its upserts are made in one transaction that is rolled back
    unless, at its end and under the run's row lock, the run is still running and the
    latest. A chunk already done (a redelivered task) is not run again. The chunks lock the
    run's row one after another to mark themselves done, so exactly one of them sees every
    chunk done and finishes the run, in the same transaction, whatever order they end in."""
    run = CheckRun.objects.get(pk=run_id)
    chunk = CheckChunk.objects.get(run=run, rule=rule, lo=lo)
    superseded = _newer_run(run_id) is not None
    if run.status != CheckRun.Status.RUNNING or chunk.done or superseded:
        log.warning(
            "run %s is %s%s, chunk %s [%s-%s] %s: skipped",
            run_id, run.status, " and superseded" if superseded else "", rule, lo, hi,
            "done" if chunk.done else "not done",
        )  # fmt: skip
        if superseded:
            _fail_if_superseded(run_id)
        return 0
    check = registry()[rule]
    count = 0
    try:
        with transaction.atomic():
            if check.over is None:
                produced: Iterable[Found] = check.func(run.for_date)
            else:
                produced = check.func(run.for_date, check.over().filter(pk__gte=lo, pk__lte=hi))
            founds = list(produced)
            count = len(founds)
            new = _record_many(run, check, founds)
            # checked last, under the run's row lock held to the commit: once the sweeper
            # has marked the run failed, or a newer run exists, no chunk of it writes
            _chunk_done(run_id, chunk.pk, findings=count, new=new, error="")
    except _NotCurrent:
        log.warning("run %s may not write: chunk %s [%s-%s] rolled back", run_id, rule, lo, hi)
        _fail_if_superseded(run_id)
        return 0
    except Exception:  # the check failed (or hit its soft time limit): the rule resolves nothing
        log.exception("check %s failed on chunk %s-%s", rule, lo, hi)
        try:
            with transaction.atomic():
                _chunk_done(
                    run_id, chunk.pk, findings=0, new=0, error=traceback.format_exc()[-4000:]
                )
        except _NotCurrent:
            _fail_if_superseded(run_id)
        return 0
    return count


def _fail_if_superseded(run_id: int):
    """A run still "running" although a newer run exists gives its claim up: marked failed,
    resolving nothing (it cannot write any more anyway)."""
    with transaction.atomic():
        if _lock_if_running(run_id) is None:
            return
        newer = _newer_run(run_id)
        if newer is None:
            return
        CheckRun.objects.filter(pk=run_id).update(
            status=CheckRun.Status.FAILED,
            finished_at=timezone.now(),
            error=f"已有更新的检查运行（编号 {newer}），本次运行作废，未消除任何检查发现。",
        )


def _chunk_done(run_id: int, chunk_id: int, **values):
    """Inside the chunk's transaction: mark it done, and finish the run if it was the last.
    Raises _NotCurrent (rolling the chunk back) if the run may not write any more, or if a
    duplicate of this chunk got there first."""
    run = _lock_if_current(run_id)
    if run is None:
        raise _NotCurrent
    if not CheckChunk.objects.filter(pk=chunk_id, done=False).update(done=True, **values):
        raise _NotCurrent  # a redelivered duplicate already did this chunk
    if not run.chunks.filter(done=False).exists():
        _finish(run)


def run_finish(run_id: int) -> CheckRun:
    """The run as it is once its chunks are done. The last chunk finishes the run itself
    (``run_chunk``); this finishes only a run without chunks, and otherwise changes nothing:
    a run still waiting for chunks, marked failed, superseded or already finished is
    returned as it is, nothing resolved."""
    with transaction.atomic():
        run = _lock_if_current(run_id)
        if run is not None and not run.chunks.filter(done=False).exists():
            _finish(run)
    if run is None:
        _fail_if_superseded(run_id)
    return CheckRun.objects.get(pk=run_id)


def _finish(run: CheckRun):
    """Resolve what the run no longer sees, for each rule that ran without error, and close
    the run. Called once, under the run's row lock, with every chunk done."""
    now = timezone.now()
    chunks = list(run.chunks.all())
    failed_rules = {c.rule for c in chunks if c.error or not c.done}
    clean_rules = {c.rule for c in chunks} - failed_rules
    resolved = (
        Finding.objects.filter(rule__in=clean_rules, resolved_at=None)
        .exclude(last_run=run)
        .update(resolved_at=now)
    )
    seen = Finding.objects.filter(last_run=run, resolved_at=None)
    run.findings_seen = seen.count()
    run.findings_new = sum(c.new for c in chunks)
    run.findings_resolved = resolved
    errors = [
        f"{c.rule} [{c.lo}-{c.hi}]: {c.error.strip().splitlines()[-1]}" for c in chunks if c.error
    ]
    run.error = "\n".join(errors)
    run.status = CheckRun.Status.FAILED if failed_rules else CheckRun.Status.SUCCEEDED
    run.finished_at = now
    run.save()
    _tell_schools_of_new(run)
    _tell_bureau_of_serious(run)


def _new_in(run: CheckRun):
    """The open findings this run saw for the first time (first seen on its date)."""
    return Finding.objects.filter(last_run=run, first_seen=run.for_date, resolved_at=None)


def _tell_schools_of_new(run: CheckRun):
    """The principal and 教导处 of a school hear of each new finding about it (their daily
    digest gathers them into one e-mail)."""
    from portal.models import SchoolStaff
    from portal.notices import notify_many

    new = _new_in(run).filter(school__isnull=False).values_list("pk", "school_id", "message")
    staff = {}
    for user_id, school_id in SchoolStaff.objects.filter(
        role__in=SchoolStaff.MANAGER_ROLES
    ).values_list("user_id", "school_id"):
        staff.setdefault(school_id, []).append(user_id)
    notify_many(
        (
            staff.get(school_id, []),
            f"finding:{pk}:new",
            f"新的检查发现：{message[:300]}",
            f"/school/findings/{pk}/",
        )
        for pk, school_id, message in new
    )


def _tell_bureau_of_serious(run: CheckRun):
    """The bureau staff of a line (its group in portal.setup.STAFF_GROUPS) hear of each new
    serious finding of that line's rules, once per finding (the notice's key); their daily
    digest gathers them into one e-mail. A rule's line is its code's first part
    ("afterschool.offering.over_capacity": 课后服务); the shared core's rules ("portal.")
    have no line group and tell nobody here."""
    from django.urls import reverse

    from portal.notices import line_staff, notify_many

    new = _new_in(run).filter(severity=Finding.Severity.SERIOUS).order_by("pk")
    staff = {}
    told = []
    for pk, rule, message in new.values_list("pk", "rule", "message"):
        line = rule.split(".", 1)[0]
        if line not in staff:
            staff[line] = line_staff(line)
        told.append(
            (
                staff[line],
                f"finding:{pk}:serious",
                f"严重检查发现：{message[:300]}",
                reverse("dashboard:finding", args=[pk]),
            )
        )
    notify_many(told)


def run_checks(*, for_date: dt.date, trigger: str = "manual", rules=None) -> CheckRun:
    """The whole run in this process (``manage.py run_checks``, tests). Raises
    RunInProgress, touching no finding, while another run holds the claim."""
    run, specs = run_start(for_date=for_date, trigger=trigger, rules=rules)
    try:
        for spec in specs:
            run_chunk(run.pk, spec.rule, spec.lo, spec.hi)
        return run_finish(run.pk)
    except BaseException as exc:  # Ctrl-C included: give the claim back, resolve nothing
        try:
            abandon_run(run.pk, reason=f"运行中断：{type(exc).__name__}")
        except Exception:  # e.g. the connection is gone; the sweeper will see to it
            log.exception("run %s could not be marked failed", run.pk)
        raise


TRIGGER_PERM = "portal.change_checkrun"  # superusers, or staff given it in the admin


def may_trigger(user) -> bool:
    return user.has_perm(TRIGGER_PERM)


def run_request(*, actor, for_date: dt.date) -> CheckRun:
    """The admin's "run the checks now": the run is started (and its claim taken) here, in
    the request, so a refusal is said at once (RunInProgress); its chunks go to the workers
    when the transaction commits."""
    from portal.audit import audit_record
    from portal.permissions import require
    from portal.tasks import dispatch_run

    require(may_trigger(actor))
    with transaction.atomic():
        run, specs = run_start(for_date=for_date, trigger="admin")
        audit_record(actor=actor, action="portal.checkrun.started", obj=run)
        transaction.on_commit(lambda: dispatch_run(run, specs))
    return run


def run_mark_failed(*, actor, run_id: int) -> bool:
    """Staff mark a run they know to be dead failed without waiting for the timeout,
    resolving nothing; False if it was no longer running."""
    from portal.audit import audit_record
    from portal.permissions import require

    require(may_trigger(actor))
    with transaction.atomic():
        if not abandon_run(
            run_id, reason=f"由 {actor.get_username()} 标记为失败，未消除任何检查发现。"
        ):
            return False
        audit_record(
            actor=actor,
            action="portal.checkrun.marked_failed",
            obj=CheckRun.objects.get(pk=run_id),
            new={"status": CheckRun.Status.FAILED},
        )
    return True


def abandon_run(run_id: int, *, reason: str) -> bool:
    """Mark a run that is still running failed, resolving nothing; False if it was not."""
    with transaction.atomic():
        if _lock_if_running(run_id) is None:
            return False
        CheckRun.objects.filter(pk=run_id).update(
            status=CheckRun.Status.FAILED, finished_at=timezone.now(), error=reason[:4000]
        )
    return True
