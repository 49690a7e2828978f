"""Runs that cannot go back in time (issue 21, item 1), without a worker.

The issue's story: a worker is killed in the middle of a run; the run's other chunks are
done; the killed chunk comes back an hour later, after a newer run has refreshed every
finding; as the old run's last chunk it finishes that run, which resolves what the newer run
saw (its findings' last run is not the old one), and the night after reopens them as new
rows. Here the late chunk is handed to the chunk and finish task functions directly (what a
redelivered message runs) in each state the old run can be in, with the control: the same
delivery with the guards off does the damage. Also: the finish step runs once whatever the
order the chunks end in, a redelivered chunk is not counted twice, and the delivery settings
fit together.
"""

import datetime as dt
import threading

import pytest
from django.conf import settings as django_settings
from django.db import connection

from portal import compliance
from portal.compliance import Found, register, run_checks
from portal.models import CheckRun, Finding, Notice, School, SchoolStaff
from portal.tasks import check_chunk, check_finish
from tests.factories import SchoolFactory, SchoolStaffFactory

NO_PRINCIPAL = "portal.school.no_principal"
CALENDAR = "portal.calendar.next_year_missing"
RULES = [NO_PRINCIPAL, CALENDAR]
DAY = dt.date(2026, 3, 2)
NEXT = DAY + dt.timedelta(days=1)
WAIT = 10  # seconds: only ever reached when the code under test is broken


def _state():
    return list(
        Finding.objects.order_by("pk").values_list(
            "pk", "rule", "subject_key", "last_run", "last_seen", "resolved_at", "workflow",
            "assigned_school",
        )
    )  # fmt: skip


def _notices():
    return sorted(Notice.objects.values_list("user_id", "key"))


def _age(run, seconds):
    CheckRun.objects.filter(pk=run.pk).update(
        started_at=run.started_at - dt.timedelta(seconds=seconds)
    )


@pytest.fixture
def late(settings):
    """Three schools without a principal (one of them assigned to its school, whose 教导处
    hears of new findings); an old run that did its first chunk and lost its second with a
    killed worker; a newer run that completed after it. Returns (old run, its late chunk,
    the newer run)."""
    settings.PORTAL_CHECK_RUN_TIMEOUT = 600
    schools = SchoolFactory.create_batch(3)
    for school in schools:
        SchoolStaffFactory(school=school, role=SchoolStaff.Role.ACADEMIC)
    run_checks(for_date=DAY, rules=RULES)
    Finding.objects.filter(school=schools[0]).update(
        workflow=Finding.Workflow.ASSIGNED, assigned_school=schools[0]
    )
    old, specs = compliance.run_start(for_date=NEXT, trigger="nightly", rules=RULES)
    first, lost = specs  # NO_PRINCIPAL's chunk, then CALENDAR's
    assert compliance.run_chunk(old.pk, first.rule, first.lo, first.hi) == 3
    _age(old, 601)
    assert compliance.sweep_stale_runs() == [old.pk]
    SchoolStaffFactory(school=SchoolFactory(), role=SchoolStaff.Role.ACADEMIC)  # a 4th
    newer = run_checks(for_date=NEXT, rules=RULES)
    assert newer.status == CheckRun.Status.SUCCEEDED
    assert (newer.findings_seen, newer.findings_new, newer.findings_resolved) == (4, 1, 0)
    return old, lost, newer


def _deliver_late(old, lost):
    """The old run's lost chunk comes back, then (as a chord callback queued by an older
    version would) its finish."""
    assert check_chunk(old.pk, lost.rule, lost.lo, lost.hi) == 0
    check_finish(None, old.pk)


@pytest.mark.django_db(transaction=True)
def test_the_late_chunk_of_a_failed_run_changes_nothing(late):
    old, lost, newer = late
    before, told = _state(), _notices()
    assert len(told) == 4  # the control of "no notices": each new finding was told

    _deliver_late(old, lost)

    assert _state() == before
    assert _notices() == told
    old.refresh_from_db()
    assert old.status == CheckRun.Status.FAILED and old.findings_resolved == 0
    assert not old.chunks.filter(rule=CALENDAR, done=True).exists()
    nxt = run_checks(for_date=NEXT, rules=RULES)
    assert (nxt.findings_new, nxt.findings_resolved) == (0, 0)
    assert Finding.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_the_late_chunk_of_a_run_still_marked_running_but_superseded_changes_nothing(late):
    old, lost, newer = late
    # the old run says "running" again (its claim bypassed, its row restored by hand):
    # only "a newer run exists" stops it now
    CheckRun.objects.filter(pk=old.pk).update(status=CheckRun.Status.RUNNING)
    before, told = _state(), _notices()

    _deliver_late(old, lost)

    assert _state() == before
    assert _notices() == told
    old.refresh_from_db()
    assert old.status == CheckRun.Status.FAILED  # and it gave its claim up
    assert f"已有更新的检查运行（编号 {newer.pk}）" in old.error
    assert old.findings_resolved == 0
    assert run_checks(for_date=NEXT, rules=RULES).findings_new == 0


@pytest.mark.django_db(transaction=True)
def test_control_without_the_guards_the_late_chunk_undoes_the_newer_run(late, monkeypatch):
    old, lost, newer = late
    CheckRun.objects.filter(pk=old.pk).update(status=CheckRun.Status.RUNNING)
    monkeypatch.setattr(compliance, "_newer_run", lambda run_id: None)  # no "latest" check
    assigned = Finding.objects.get(resolved_at=None, workflow=Finding.Workflow.ASSIGNED)

    _deliver_late(old, lost)

    old.refresh_from_db()
    assert old.status == CheckRun.Status.SUCCEEDED  # the old run finished after all ...
    assert old.findings_resolved == 4  # ... resolving every finding the newer run saw
    assert not Finding.objects.filter(rule=NO_PRINCIPAL, resolved_at=None).exists()
    monkeypatch.undo()
    nxt = run_checks(for_date=NEXT, rules=RULES)
    assert nxt.findings_new == 4  # reopened as new rows, the assigned one unassigned
    reopened = Finding.objects.get(resolved_at=None, subject_key=assigned.subject_key)
    assert reopened.pk != assigned.pk and reopened.assigned_school is None


@pytest.fixture
def four_chunks(settings):
    """A run of three one-school chunks and the calendar's chunk, none done yet."""
    settings.PORTAL_CHECK_CHUNK_SIZE = 1
    SchoolFactory.create_batch(3)
    run, specs = compliance.run_start(for_date=DAY, rules=RULES)
    assert len(specs) == 4
    return run, specs


@pytest.fixture
def finishes(monkeypatch):
    calls = []
    real = compliance._finish

    def counted(run):
        calls.append(run.pk)
        real(run)

    monkeypatch.setattr(compliance, "_finish", counted)
    return calls


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (3, 2, 1, 0), (2, 0, 3, 1)])
@pytest.mark.django_db
def test_the_last_chunk_finishes_the_run_once_whatever_the_order(four_chunks, finishes, order):
    run, specs = four_chunks
    for n, i in enumerate(order):
        spec = specs[i]
        compliance.run_chunk(run.pk, spec.rule, spec.lo, spec.hi)
        run.refresh_from_db()
        if n < len(order) - 1:
            assert run.status == CheckRun.Status.RUNNING and finishes == []
            # a finish that comes early (a chord callback of an older version) waits
            assert compliance.run_finish(run.pk).status == CheckRun.Status.RUNNING
    assert finishes == [run.pk]
    assert run.status == CheckRun.Status.SUCCEEDED
    assert (run.findings_seen, run.findings_new) == (3, 3)
    # every chunk delivered again, and the finish: nothing more
    for spec in specs:
        assert compliance.run_chunk(run.pk, spec.rule, spec.lo, spec.hi) == 0
    compliance.run_finish(run.pk)
    assert finishes == [run.pk]
    run.refresh_from_db()
    assert (run.status, run.findings_seen, run.findings_new) == (CheckRun.Status.SUCCEEDED, 3, 3)


@pytest.mark.django_db
def test_a_redelivered_chunk_is_not_run_again_nor_counted_twice(four_chunks):
    run, specs = four_chunks
    spec = specs[0]
    assert compliance.run_chunk(run.pk, spec.rule, spec.lo, spec.hi) == 1
    chunk = run.chunks.get(rule=spec.rule, lo=spec.lo)
    assert (chunk.done, chunk.findings, chunk.new) == (True, 1, 1)
    # run again, the finding exists: it would count as not new (0) and overwrite the 1
    assert compliance.run_chunk(run.pk, spec.rule, spec.lo, spec.hi) == 0
    chunk.refresh_from_db()
    assert (chunk.findings, chunk.new) == (1, 1)
    for spec in specs[1:]:
        compliance.run_chunk(run.pk, spec.rule, spec.lo, spec.hi)
    run.refresh_from_db()
    assert (run.status, run.findings_new) == (CheckRun.Status.SUCCEEDED, 3)


OVER = "tests.late.together"


@pytest.mark.django_db(transaction=True)
def test_two_chunks_ending_at_once_finish_the_run_once(settings, finishes):
    """Two workers end the run's two chunks at the same moment: the run's row lock puts
    them one after the other, so exactly one sees both done and finishes the run."""
    settings.PORTAL_CHECK_CHUNK_SIZE = 1
    together = threading.Barrier(2)

    @register(OVER, title="测试：同时结束", severity="info", over=lambda: School.objects.all())
    def both_at_once(for_date, schools):
        together.wait(WAIT)
        for school in schools:
            yield Found(subject=school, school=school, message="找到")

    try:
        SchoolFactory.create_batch(2)
        run, specs = compliance.run_start(for_date=DAY, rules=[OVER])
        errors = []

        def work(spec):
            try:
                compliance.run_chunk(run.pk, spec.rule, spec.lo, spec.hi)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=work, args=(s,)) for s in specs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(3 * WAIT)
    finally:
        compliance._registry.pop(OVER)
    assert errors == [] and not any(t.is_alive() for t in threads)
    run.refresh_from_db()
    assert finishes == [run.pk]
    assert (run.status, run.findings_seen, run.findings_new) == (CheckRun.Status.SUCCEEDED, 2, 2)
    assert not run.chunks.filter(error__gt="").exists()


def test_the_delivery_settings_fit_together():
    """What portal/settings.py ("Delivery") promises: a chunk's message is acknowledged late
    and comes back after a lost pool process (retried at most 3 times); the visibility
    timeout outlasts any task and any countdown, and is shorter than the run timeout."""
    from portal.celery import app

    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    limit = django_settings.PORTAL_CHECK_CHUNK_TIME_LIMIT
    assert (check_chunk.acks_late, check_chunk.retry_on_worker_lost) == (True, True)
    assert check_chunk.time_limit == limit and check_chunk.soft_time_limit < limit
    # every try of a chunk fits in a run's time
    assert limit * (check_chunk.max_retries + 1) < django_settings.PORTAL_CHECK_RUN_TIMEOUT
    visibility = conf.broker_transport_options["visibility_timeout"]
    assert visibility >= 2 * limit
    assert visibility > 600  # the digest's longest retry countdown (retry_backoff_max)
    assert visibility < django_settings.PORTAL_CHECK_RUN_TIMEOUT
