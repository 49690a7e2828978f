"""One check run at a time (issue 12): two runs started at once, on two real connections.

Without the claim the race is real and deterministic: both runs refresh the same true
findings, the first to finish resolves those the other refreshed, and the next run reopens
them as new rows (the control). With the claim one run is refused and the findings stay
true. Also: the timeout sweep, and the chunk or finish of a run marked failed doing nothing.
"""

import datetime as dt
import io
import logging
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from portal import compliance
from portal.compliance import Found, register, run_checks
from portal.models import CheckChunk, CheckRun, Finding, School
from portal.tasks import nightly_checks
from tests.factories import SchoolFactory

NO_PRINCIPAL = "portal.school.no_principal"
CALENDAR = "portal.calendar.next_year_missing"
GATE = "tests.checkruns.gate"
OVER = "tests.checkruns.over_schools"
DAY = dt.date(2026, 3, 2)
WAIT = 10  # seconds: only ever reached when the code under test is broken


@pytest.fixture
def gate():
    """A rule that runs after NO_PRINCIPAL's chunk (rules run in the order given) and calls
    ``hook["gate"]``: the test decides there who waits for whom."""
    hook = {"gate": lambda: None}

    @register(GATE, title="测试：闸门", severity="info")
    def gate_rule(for_date):
        hook["gate"]()
        return []

    yield hook
    compliance._registry.pop(GATE)


def _open_findings():
    return Finding.objects.filter(rule=NO_PRINCIPAL, resolved_at=None)


def _race(gate_hook, make_gate):
    """Two ``manage.py run_checks`` started together on two threads (two connections)."""
    start = threading.Barrier(2)
    returned = threading.Event()
    results, messages = [], []
    gate_hook["gate"] = make_gate(returned)

    def run():
        try:
            start.wait(WAIT)
            call_command(
                "run_checks", "--date", str(DAY), "--rule", NO_PRINCIPAL, "--rule", GATE,
                stdout=io.StringIO(),
            )  # fmt: skip
            results.append("ok")
        except CommandError as exc:
            results.append("refused")
            messages.append(str(exc))
        finally:
            returned.set()
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(3 * WAIT)
    assert not any(t.is_alive() for t in threads)
    return sorted(results), messages


@pytest.mark.django_db(transaction=True)
def test_without_the_claim_two_runs_at_once_resolve_true_findings_and_reopen_them(
    gate, monkeypatch
):
    SchoolFactory.create_batch(3)  # three schools without a principal: three true findings
    run_checks(for_date=DAY, rules=[NO_PRINCIPAL])
    assert _open_findings().count() == 3
    # neither the claim nor the "only the latest run writes" check
    monkeypatch.setattr(compliance, "_claim", lambda: None)
    monkeypatch.setattr(compliance, "_newer_run", lambda run_id: None)
    both_chunks_done = threading.Barrier(2)

    # each run waits at the gate until the other has refreshed the findings: whichever
    # finishes first, the run that did not refresh them last resolves them
    results, _ = _race(gate, lambda returned: lambda: both_chunks_done.wait(WAIT))

    assert results == ["ok", "ok"]  # both report success
    assert _open_findings().count() == 0  # the three true findings resolved
    assert sum(CheckRun.objects.values_list("findings_resolved", flat=True)) == 3
    nxt = run_checks(for_date=DAY, rules=[NO_PRINCIPAL])
    assert nxt.findings_new == 3  # ... and reopened as three new rows
    assert Finding.objects.filter(rule=NO_PRINCIPAL).count() == 6


@pytest.mark.django_db(transaction=True)
def test_with_the_claim_the_second_run_is_refused_and_the_findings_stay_true(gate):
    SchoolFactory.create_batch(3)
    run_checks(for_date=DAY, rules=[NO_PRINCIPAL])
    before = set(_open_findings().values_list("pk", flat=True))

    # the run that got in waits at the gate until the other one has returned: they overlap
    results, messages = _race(gate, lambda returned: lambda: returned.wait(WAIT))

    assert results == ["ok", "refused"]
    assert "已有一次检查正在运行" in messages[0] and "already running" in messages[0]
    assert set(_open_findings().values_list("pk", flat=True)) == before
    assert Finding.objects.filter(rule=NO_PRINCIPAL).count() == 3
    winner = CheckRun.objects.order_by("-pk").first()
    assert CheckRun.objects.count() == 2  # the refused one left no run behind
    assert winner.status == CheckRun.Status.SUCCEEDED
    assert (winner.findings_seen, winner.findings_new, winner.findings_resolved) == (3, 0, 0)
    nxt = run_checks(for_date=DAY, rules=[NO_PRINCIPAL])
    assert (nxt.findings_new, nxt.findings_resolved) == (0, 0)


def _waiting_on_an_advisory_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event = 'advisory'"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_a_start_waits_for_the_claim_of_a_start_under_way_then_is_refused():
    # "no run is running, create one" is one step: B checks only after A has committed
    a_claimed, a_may_create = threading.Event(), threading.Event()
    refused = []

    def a():
        try:
            with transaction.atomic():
                compliance._claim()
                a_claimed.set()
                a_may_create.wait(WAIT)
                CheckRun.objects.create(for_date=DAY, trigger="a")
        finally:
            connection.close()

    def b():
        try:
            compliance.run_start(for_date=DAY, trigger="b", rules=[NO_PRINCIPAL])
        except compliance.RunInProgress as exc:
            refused.append(exc)
        finally:
            connection.close()

    ta, tb = threading.Thread(target=a), threading.Thread(target=b)
    ta.start()
    assert a_claimed.wait(WAIT)
    tb.start()
    deadline = time.monotonic() + WAIT
    while not _waiting_on_an_advisory_lock() and time.monotonic() < deadline:
        time.sleep(0.05)
    a_may_create.set()
    ta.join(WAIT)
    tb.join(WAIT)
    assert [r.other.trigger for r in refused] == ["a"]
    assert list(CheckRun.objects.values_list("trigger", flat=True)) == ["a"]


@pytest.fixture
def running_run():
    """A run that holds the claim (as while its chunks are out with the workers): two
    rules, so that doing one chunk does not finish it."""
    SchoolFactory.create_batch(2)
    run_checks(for_date=DAY, rules=[NO_PRINCIPAL])
    run, _ = compliance.run_start(for_date=DAY, trigger="nightly", rules=[NO_PRINCIPAL, CALENDAR])
    return run


def _snapshot():
    return list(Finding.objects.order_by("pk").values_list("pk", "last_run", "resolved_at"))


@pytest.mark.django_db
def test_the_command_is_refused_while_a_run_is_running(running_run):
    before = _snapshot()
    with pytest.raises(CommandError, match=f"已有一次检查正在运行（编号 {running_run.pk}"):
        call_command("run_checks", "--date", str(DAY), stdout=io.StringIO())
    assert _snapshot() == before
    assert CheckRun.objects.count() == 2


@pytest.mark.django_db
def test_a_beat_tick_while_a_run_is_running_logs_and_touches_nothing(running_run, caplog):
    before = _snapshot()
    with caplog.at_level(logging.WARNING, logger="portal.tasks"):
        assert nightly_checks(for_date=str(DAY)) is None
    assert "refused" in caplog.text and "已有一次检查正在运行" in caplog.text
    assert _snapshot() == before
    assert CheckRun.objects.count() == 2


def _age(run, seconds):
    """Move the run's start back by ``seconds`` (started_at is auto_now_add)."""
    started = run.started_at - dt.timedelta(seconds=seconds)
    CheckRun.objects.filter(pk=run.pk).update(started_at=started)
    return started


@pytest.mark.django_db
def test_the_sweep_fails_a_run_only_after_the_timeout(running_run, settings):
    settings.PORTAL_CHECK_RUN_TIMEOUT = 600
    started = _age(running_run, 0)
    at_timeout = started + dt.timedelta(seconds=600)
    assert compliance.sweep_stale_runs(now=at_timeout) == []  # exactly the timeout: within
    running_run.refresh_from_db()
    assert running_run.status == CheckRun.Status.RUNNING
    just_after = at_timeout + dt.timedelta(microseconds=1)
    assert compliance.sweep_stale_runs(now=just_after) == [running_run.pk]
    running_run.refresh_from_db()
    assert running_run.status == CheckRun.Status.FAILED
    assert running_run.finished_at == just_after
    assert "10 分钟未完成" in running_run.error
    assert compliance.sweep_stale_runs(now=just_after) == []  # once


@pytest.mark.django_db
def test_a_timed_out_run_resolves_nothing_and_the_next_run_goes_ahead(running_run, settings):
    settings.PORTAL_CHECK_RUN_TIMEOUT = 600
    lonely = list(School.objects.all())
    # the stuck run did one chunk, then the worker with its other chunk died
    compliance.run_chunk(
        running_run.pk,
        NO_PRINCIPAL,
        *running_run.chunks.values_list("lo", "hi").get(rule=NO_PRINCIPAL),
    )
    before = _snapshot()
    _age(running_run, 601)
    assert compliance.sweep_stale_runs() == [running_run.pk]
    assert _snapshot() == before  # nothing resolved, nothing reopened
    # its late finish (a chord callback queued by an older version) changes nothing
    finished = compliance.run_finish(running_run.pk)
    assert finished.status == CheckRun.Status.FAILED and finished.findings_resolved == 0
    assert _snapshot() == before
    nxt = run_checks(for_date=DAY, rules=[NO_PRINCIPAL])
    assert nxt.status == CheckRun.Status.SUCCEEDED
    assert (nxt.findings_seen, nxt.findings_new, nxt.findings_resolved) == (2, 0, 0)
    assert {f.school for f in _open_findings()} == set(lonely)


@pytest.mark.django_db
def test_a_run_past_the_timeout_does_not_block_the_next_even_before_the_sweep(
    running_run, settings
):
    settings.PORTAL_CHECK_RUN_TIMEOUT = 600
    _age(running_run, 601)
    nxt = run_checks(for_date=DAY, rules=[NO_PRINCIPAL])
    assert nxt.status == CheckRun.Status.SUCCEEDED
    running_run.refresh_from_db()
    assert running_run.status == CheckRun.Status.FAILED
    assert (nxt.findings_new, nxt.findings_resolved) == (0, 0)


@pytest.mark.django_db
def test_a_chunk_of_a_failed_run_writes_nothing(settings):
    settings.PORTAL_CHECK_RUN_TIMEOUT = 600
    SchoolFactory.create_batch(2)
    run, specs = compliance.run_start(for_date=DAY, rules=[NO_PRINCIPAL])
    _age(run, 601)
    compliance.sweep_stale_runs()
    assert compliance.run_chunk(run.pk, NO_PRINCIPAL, specs[0].lo, specs[0].hi) == 0
    assert not Finding.objects.exists()
    assert not CheckChunk.objects.filter(run=run, done=True).exists()


@pytest.fixture
def swept_mid_chunk():
    """A rule over schools that, while its chunk runs, has the run marked failed by the
    sweep on another connection (a worker that was slow, not dead); once."""
    swept = []

    @register(OVER, title="测试：运行中超时", severity="info", over=lambda: School.objects.all())
    def over_schools(for_date, schools):
        def sweep():
            compliance.sweep_stale_runs(now=timezone.now() + dt.timedelta(days=1))
            connection.close()

        if not swept:
            swept.append(True)
            t = threading.Thread(target=sweep)
            t.start()
            t.join(WAIT)
        for school in schools:
            yield Found(subject=school, school=school, message="找到")

    yield OVER
    compliance._registry.pop(OVER)


@pytest.mark.django_db(transaction=True)
def test_a_chunk_whose_run_is_marked_failed_meanwhile_rolls_back(swept_mid_chunk):
    SchoolFactory.create_batch(2)
    run, specs = compliance.run_start(for_date=DAY, rules=[swept_mid_chunk])
    assert compliance.run_chunk(run.pk, swept_mid_chunk, specs[0].lo, specs[0].hi) == 0
    run.refresh_from_db()
    assert run.status == CheckRun.Status.FAILED
    assert not Finding.objects.filter(rule=swept_mid_chunk).exists()
    assert not run.chunks.filter(done=True).exists()
    # a failed run does not block: the next one writes the findings
    nxt = run_checks(for_date=DAY, rules=[swept_mid_chunk])
    assert nxt.findings_new == 2


@pytest.mark.django_db
def test_an_interrupted_run_gives_the_claim_back():
    code = "tests.checkruns.interrupted"

    @register(code, title="测试：中断", severity="info")
    def interrupted(for_date):
        raise KeyboardInterrupt
        yield  # a generator, as checks are

    try:
        with pytest.raises(KeyboardInterrupt):
            run_checks(for_date=DAY, rules=[code])
    finally:
        compliance._registry.pop(code)
    run = CheckRun.objects.get()
    assert run.status == CheckRun.Status.FAILED and "KeyboardInterrupt" in run.error
    assert run_checks(for_date=DAY, rules=[NO_PRINCIPAL]).status == CheckRun.Status.SUCCEEDED


@pytest.mark.django_db
def test_the_sweep_is_registered_every_ten_minutes():
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    task = PeriodicTask.objects.get(task="portal.checks.sweep")
    assert (task.interval.every, task.interval.period) == (10, IntervalSchedule.MINUTES)
    assert task.enabled


def _admin_action(client, action, runs):
    from django.urls import reverse

    return client.post(
        reverse("admin:portal_checkrun_changelist"),
        {"action": action, "_selected_action": [r.pk for r in runs]},
        follow=True,
    )


@pytest.mark.django_db(transaction=True)
def test_the_admins_run_again_is_refused_while_a_run_is_running(
    running_run, superuser, client_for, monkeypatch
):
    from portal import tasks

    sent = []
    monkeypatch.setattr(tasks, "dispatch_run", lambda run, specs: sent.append(run.pk))
    before = _snapshot()
    page = _admin_action(client_for(superuser), "run_again", [running_run])
    assert page.status_code == 200
    assert f"已有一次检查正在运行（编号 {running_run.pk}" in page.content.decode()
    assert CheckRun.objects.count() == 2 and sent == []
    assert _snapshot() == before


@pytest.mark.django_db(transaction=True)
def test_the_admin_starts_a_run_and_hands_it_to_the_workers_on_commit(
    superuser, client_for, monkeypatch
):
    from portal import tasks
    from portal.models import AuditLog

    sent = []
    monkeypatch.setattr(tasks, "dispatch_run", lambda run, specs: sent.append((run.pk, specs)))
    SchoolFactory()
    done = run_checks(for_date=DAY, rules=[NO_PRINCIPAL])
    page = _admin_action(client_for(superuser), "run_again", [done])
    assert "已开始检查 2026-03-02" in page.content.decode()
    run = CheckRun.objects.get(trigger="admin")
    assert run.status == CheckRun.Status.RUNNING and run.for_date == DAY
    assert [pk for pk, _ in sent] == [run.pk]
    assert {s.rule for s in sent[0][1]} == set(compliance.registry())
    assert AuditLog.objects.get(action="portal.checkrun.started").actor == superuser


@pytest.mark.django_db(transaction=True)
def test_staff_without_the_permission_cannot_start_or_fail_runs(world, client_for):
    from django.core.exceptions import PermissionDenied

    SchoolFactory()
    done = run_checks(for_date=DAY, rules=[NO_PRINCIPAL])
    page = _admin_action(client_for(world.bureau), "run_again", [done])
    assert page.status_code in (200, 403)
    assert CheckRun.objects.count() == 1
    with pytest.raises(PermissionDenied):
        compliance.run_request(actor=world.bureau, for_date=DAY)
    with pytest.raises(PermissionDenied):
        compliance.run_mark_failed(actor=world.bureau, run_id=done.pk)
    assert CheckRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_admin_marks_a_dead_run_failed_and_the_next_goes_ahead(
    running_run, superuser, client_for
):
    from portal.models import AuditLog

    finished = CheckRun.objects.exclude(pk=running_run.pk).get()
    before = _snapshot()
    page = _admin_action(client_for(superuser), "mark_failed", [running_run, finished])
    assert "已将 1 次运行标记为失败" in page.content.decode()
    running_run.refresh_from_db()
    assert running_run.status == CheckRun.Status.FAILED and "root" in running_run.error
    finished.refresh_from_db()
    assert finished.status == CheckRun.Status.SUCCEEDED  # a finished run is left alone
    assert _snapshot() == before
    assert AuditLog.objects.get(action="portal.checkrun.marked_failed").object_id == str(
        running_run.pk
    )
    assert run_checks(for_date=DAY, rules=[NO_PRINCIPAL]).status == CheckRun.Status.SUCCEEDED
