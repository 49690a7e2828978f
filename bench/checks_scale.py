"""The nightly check run scaled out: 1, 2 and 4 Celery worker processes, 1x, 2x, 4x the district.

    .venv/bin/python bench/checks_scale.py [--schools 1000,2000,4000] [--workers 1,2,4]
                                           [--classes-per-school 30] [--window 20]
                                           [--year-schools 1000] [--rounds 3]
                                           [--fill-only] [--reduced]

Each data size lives in a database of its own, ``<bench database>_checks<schools>w<window>``
(created from a migrated template, filled once and kept), because a run checks every school
of its database: the run at 2,000 schools must not see the 1,000 of another data set. A data
set is the homework bench's district (bench/homework_checks.py ``_fill``: schools of 30
classes, one staff account each, four pupils and parents a class, the parents' reports of
the last 20 school days) with the homework of the last ``--window`` school days up to the
measured night instead of a whole school year: every rule reads the night's rows only
(``date = night``, through the (date, class) indexes), which this script shows by timing the
same run on a whole school year of ``--year-schools`` schools (``<bench database>_checks<n>y``,
the homework of 2025-09-01..2026-07-03) against the window of the same schools. That
database also gives the size of a school year's homework per school (pg_total_relation_size).

For each data size and worker count the script starts that many workers (``celery -A portal
worker --concurrency 1``, one process each, on a private queue, with the data size's
DATABASE_URL; started and ready before the clock starts, stopped after). N workers of one
process rather than one worker with ``--concurrency N``: that is how a province adds
capacity (a worker per machine), each takes one chunk at a time (prefetch 1, acks late) and
its log says what it ran; on one machine both are N processes sharing its cores. Then it runs the
nightly run as the nightly task does: ``compliance.run_start`` (every registered check, the
claim, the chunks) and ``tasks.dispatch_run`` to the workers; the run is over when its
CheckRun is finished (the last chunk finishes it). A first run in the process (not timed)
opens the findings, so each timed run is a night like the next: the same findings refreshed.

Printed: the total per (workers, schools), the chunks each worker ran and its busy time (from
its log), the slowest rules (their chunks' time summed), the growth of the time per doubling
of the data, the speed-up per doubling of the workers, and the figures of the capacity plan
(bench/README). Correctness (exit status 1): every run succeeded, no chunk failed, and the
same findings (count and subjects per rule) whatever the number of workers.

``--reduced`` (``make bench``, about 2 minutes with the first fill): 100, 200, 400 schools
with 5 school days of homework, 2 rounds, no whole-year data set (the full run shows the
window is representative and measures the year's size).
``--fill-only``: create and fill the databases, nothing else (to prepare a machine).
"""

import argparse
import hashlib
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import homework_checks as hw  # noqa: E402
from _common import setup_bench_database, table_row  # noqa: E402

NIGHT = hw.NIGHT
RUN_LIMIT_S = 1800  # a run not finished after this is abandoned and the bench fails
READY_LIMIT_S = 180  # workers not ready after this: the bench fails
PROVINCE = 20_000  # schools, for the capacity plan
GROWTH_TARGET = 2.2  # the time per doubling of the data at most this: the run scales
HOMEWORK_TABLES = ["homework_homeworkitem", "homework_parentreport"]

# --- databases -----------------------------------------------------------------------------


def _admin(sql, params=None, *, fetch=False):
    """One statement on the server's maintenance database (CREATE DATABASE cannot run in a
    transaction)."""
    import psycopg2

    from portal.embedded import with_database

    conn = psycopg2.connect(with_database(os.environ["DATABASE_URL"], "postgres"))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if fetch else None
    finally:
        conn.close()


def _exists(name) -> bool:
    return bool(_admin("SELECT 1 FROM pg_database WHERE datname = %s", [name], fetch=True))


class Databases:
    """Point Django's default connection at one data set's database at a time."""

    def __init__(self):
        from django.db import connection

        self.base = connection.settings_dict["NAME"]  # <database>_bench, migrated
        self.template = f"{self.base}_checks_template"

    def name(self, schools: int, window: int | None) -> str:
        """A data set's database: its schools and its window (None: a whole year)."""
        return f"{self.base}_checks{schools}" + (f"w{window}" if window else "y")

    def url(self, name) -> str:
        from portal.embedded import with_database

        return with_database(os.environ["DATABASE_URL"], name)

    def use(self, name):
        """Create (from a migrated empty template) if needed, connect, migrate."""
        from django.contrib.contenttypes.models import ContentType
        from django.core.management import call_command
        from django.db import connection

        if not _exists(name):
            if not _exists(self.template):
                self._switch(self.template)
                _admin(f'CREATE DATABASE "{self.template}"')
                call_command("migrate", verbosity=0)
                connection.close()  # a template must have no session
            _admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        self._switch(name)
        ContentType.objects.clear_cache()  # ids differ between databases
        call_command("migrate", verbosity=0)

    def _switch(self, name):
        from django.db import connection

        connection.close()
        connection.settings_dict["NAME"] = name


def _fill(dbs, schools, per_school, window, *, year=False):
    """The data set of ``schools`` in its database: window of homework, or a whole year."""
    window = None if year else window
    dbs.use(dbs.name(schools, window))
    district, fill_time = hw._fill(schools, per_school, window=window)
    what = "a school year" if year else f"{window} school days"
    if fill_time is None:
        print(f"  {district.code} ({what}): kept from an earlier run", flush=True)
    else:
        print(f"  {district.code} ({what}): filled in {fill_time:.0f} s", flush=True)
    from portal.models import School

    others = School.objects.exclude(district=district).count()
    if others:
        raise RuntimeError(f"{dbs.name(schools, window)} has {others} schools of other data sets")
    return district


def _abandon_leftovers():
    """A run left "running" by an interrupted bench would refuse the next one."""
    from portal.compliance import abandon_run
    from portal.models import CheckRun

    for pk in CheckRun.objects.filter(status=CheckRun.Status.RUNNING).values_list("pk", flat=True):
        abandon_run(pk, reason="checks_scale: left running by an interrupted bench")
        print(f"  run {pk} was left running by an earlier bench: marked failed")


# --- workers -------------------------------------------------------------------------------

SUCCEEDED = re.compile(r"Task portal\.checks\.chunk\[[^\]]+\] succeeded in ([0-9.]+)s")


class Workers:
    """``count`` Celery workers of one process each (``--concurrency 1``) on a private queue,
    each in its own process group (stopped with it)."""

    def __init__(self, count: int, database_url: str, queue: str, log_dir: Path):
        self.count, self.database_url, self.queue, self.log_dir = (
            count,
            database_url,
            queue,
            log_dir,
        )
        self.procs = []

    def start(self):
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "PORTAL_CELERY_QUEUE": self.queue,
            "DJANGO_DEBUG": "false",
        }
        for i in range(self.count):
            log = self.log_dir / f"worker{i}.log"
            proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", self.queue,
                 "--concurrency", "1", "-n", f"w{i}-{self.queue}@%h", "-l", "info",
                 "--without-mingle", "--without-gossip", "--without-heartbeat"],
                cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
            proc.log = log
            self.procs.append(proc)
        deadline = time.monotonic() + READY_LIMIT_S
        waiting = list(self.procs)
        while waiting:
            self.check_alive()
            waiting = [p for p in waiting if " ready." not in p.log.read_text(errors="replace")]
            if waiting and time.monotonic() > deadline:
                raise RuntimeError(f"workers not ready within {READY_LIMIT_S} s")
            time.sleep(0.2)
        return self

    def check_alive(self):
        for p in self.procs:
            if p.poll() is not None:
                raise RuntimeError(
                    f"worker exited ({p.returncode}):\n{p.log.read_text(errors='replace')[-3000:]}"
                )

    def busy(self) -> list[tuple[int, float]]:
        """Per worker: chunks run and the seconds they took (from its log)."""
        out = []
        for p in self.procs:
            times = [float(t) for t in SUCCEEDED.findall(p.log.read_text(errors="replace"))]
            out.append((len(times), sum(times)))
        return out

    def problems(self) -> list[str]:
        """Error lines the workers logged (a chunk that raised, a lost pool process)."""
        pattern = re.compile(r"Traceback|ERROR/|WARNING/.*(skipped|rolled back|superseded)")
        return [
            f"worker {i}: {line.strip()[:200]}"
            for i, p in enumerate(self.procs)
            for line in p.log.read_text(errors="replace").splitlines()
            if pattern.search(line)
        ]

    def stop(self):
        """Warm shutdown (SIGTERM to the main process only: killing the pool's child too
        would fail its task and send it again), then the queue purged."""
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            else:
                try:  # the pool's children, should one outlive its parent
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.procs = []
        from portal.celery import app

        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(self.queue)


# --- runs ----------------------------------------------------------------------------------


def _findings(run) -> dict:
    """Per rule: the number of open findings the run saw and a digest of their subjects."""
    from portal.models import Finding

    keys = {}
    for rule, key in Finding.objects.filter(last_run=run, resolved_at=None).values_list(
        "rule", "subject_key"
    ):
        keys.setdefault(rule, []).append(key)
    return {
        rule: (len(k), hashlib.sha1("\n".join(sorted(k)).encode()).hexdigest()[:12])
        for rule, k in sorted(keys.items())
    }


def _run_with_workers(workers: Workers) -> dict:
    """One nightly run as the nightly task makes it, timed until its CheckRun is finished."""
    from django.utils import timezone

    from portal import compliance
    from portal.models import CheckRun
    from portal.tasks import dispatch_run

    started = timezone.now()
    t0 = time.perf_counter()
    run, specs = compliance.run_start(for_date=NIGHT, trigger="bench")
    dispatch_run(run, specs)
    while True:
        run.refresh_from_db()
        if run.status != CheckRun.Status.RUNNING:
            break
        workers.check_alive()
        if time.perf_counter() - t0 > RUN_LIMIT_S:
            compliance.abandon_run(run.pk, reason="checks_scale: over the bench's limit")
            raise RuntimeError(f"run {run.pk} not finished within {RUN_LIMIT_S} s")
        time.sleep(0.05)
    total = (run.finished_at - started).total_seconds()
    return {"run": run, "total": total, "chunks": len(specs), **_outcome(run)}


def _outcome(run) -> dict:
    failed = list(run.chunks.exclude(error="").values_list("rule", "lo", "hi"))
    undone = run.chunks.filter(done=False).count()
    return {"failed_chunks": failed, "undone": undone, "findings": _findings(run)}


def _run_in_process() -> dict:
    """The same run in this process, chunk after chunk, each chunk timed: per-rule cost."""
    from portal import compliance

    t0 = time.perf_counter()
    run, specs = compliance.run_start(for_date=NIGHT, trigger="bench")
    per_rule = {}
    for spec in specs:
        t = time.perf_counter()
        compliance.run_chunk(run.pk, spec.rule, spec.lo, spec.hi)
        n, s = per_rule.get(spec.rule, (0, 0.0))
        per_rule[spec.rule] = (n + 1, s + time.perf_counter() - t)
    run = compliance.run_finish(run.pk)
    total = time.perf_counter() - t0
    return {"run": run, "total": total, "chunks": len(specs), "per_rule": per_rule,
            **_outcome(run)}  # fmt: skip


def _homework_size() -> dict:
    """pg_total_relation_size (heap, TOAST, indexes) of the homework tables, and rows."""
    from django.db import connection

    out = {}
    with connection.cursor() as cur:
        for table in HOMEWORK_TABLES:
            cur.execute(
                f"SELECT pg_total_relation_size(%s), pg_indexes_size(%s), count(*),"
                f" count(DISTINCT date) FROM {table}",
                [table, table],
            )
            out[table] = dict(
                zip(["total", "indexes", "rows", "days"], cur.fetchone(), strict=True)
            )
    return out


def _mb(b):
    return f"{b / 2**20:,.0f} MB"


def _gb(b):
    return f"{b / 2**30:,.1f} GB"


# --- the bench -----------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", default="1000,2000,4000", help="data sizes, ascending")
    parser.add_argument("--workers", default="1,2,4", help="worker processes, ascending")
    parser.add_argument("--classes-per-school", type=int, default=30)
    parser.add_argument("--window", type=int, default=20, help="school days of homework")
    parser.add_argument(
        "--year-schools", type=int, default=None,
        help="schools of the whole-year data set (default: the smallest size; 0: none)",
    )  # fmt: skip
    parser.add_argument(
        "--rounds", type=int, default=3, help="timed runs per (workers, size): the median"
    )
    parser.add_argument("--fill-only", action="store_true")
    parser.add_argument("--reduced", action="store_true", help="100,200,400 schools")
    args = parser.parse_args()
    if args.reduced:
        args.schools, args.window, args.year_schools, args.rounds = "100,200,400", 5, 0, 2
    sizes = sorted({int(s) for s in args.schools.split(",") if s.strip()})
    counts = sorted({int(w) for w in args.workers.split(",") if w.strip()})
    if not sizes or not counts or min(sizes) < 1 or min(counts) < 1 or args.rounds < 1:
        parser.error("sizes, worker counts and rounds must be positive")
    if args.year_schools is None:
        args.year_schools = sizes[0]
    queue = f"checks-scale-{uuid.uuid4().hex[:8]}"
    os.environ["PORTAL_CELERY_QUEUE"] = queue  # never the portal's own queue
    services = setup_bench_database()
    try:
        return _bench(args, sizes, counts, queue)
    finally:
        services.stop()


def _bench(args, sizes, counts, queue):
    import tempfile

    from django.conf import settings

    from portal.celery import app as celery_app

    dbs = Databases()
    per = args.classes_per_school
    print(
        f"nightly checks for {NIGHT}, data sets of {', '.join(map(str, sizes))} schools x {per} "
        f"classes, homework of the last {args.window} school days; chunks of "
        f"{settings.PORTAL_CHECK_CHUNK_SIZE}; load {_load()}",
        flush=True,
    )
    t_fill = time.perf_counter()
    for n in sizes:
        _fill(dbs, n, per, args.window)
    if args.year_schools:
        _fill(dbs, args.year_schools, per, args.window, year=True)
    print(f"data sets ready ({time.perf_counter() - t_fill:.0f} s)", flush=True)
    if args.fill_only:
        return 0

    failures = []
    results = {}  # (workers, schools) -> [run dicts]
    in_process = {}  # schools -> run dict
    log_root = Path(tempfile.mkdtemp(prefix="checks_scale_"))
    for n in sizes:
        name = dbs.name(n, args.window)
        dbs.use(name)
        _abandon_leftovers()
        from portal.compliance import run_checks

        t = time.perf_counter()
        first = run_checks(for_date=NIGHT, trigger="bench")  # opens the findings; not timed
        print(
            f"\n{n} schools ({name}): first run in process {time.perf_counter() - t:.1f} s "
            f"({first.status}, {first.findings_seen} findings, {first.findings_new} new); "
            f"load {_load()}",
            flush=True,
        )
        in_process[n] = r = _run_in_process()
        print(f"  in process, chunk after chunk: {r['total']:.1f} s, {r['chunks']} chunks")
        _check(r, f"in process, {n} schools", failures)
        for w in counts:
            log_dir = log_root / f"{n}-{w}"
            log_dir.mkdir()
            # a queue of its own: nothing of another data set's run can reach these workers
            set_queue = f"{queue}-{n}-{w}"
            celery_app.conf.task_default_queue = set_queue  # where dispatch_run sends
            workers = Workers(w, dbs.url(name), set_queue, log_dir)
            try:
                workers.start()
                runs = []
                for _ in range(args.rounds):
                    runs.append(_run_with_workers(workers))
                busy = workers.busy()
                failures.extend(f"{w} workers, {n} schools: {p}" for p in workers.problems())
            finally:
                workers.stop()
            results[(w, n)] = runs
            for r in runs:
                _check(r, f"{w} workers, {n} schools", failures)
                if r["findings"] != in_process[n]["findings"]:
                    failures.append(f"{w} workers, {n} schools: findings differ from in process")
            times = [r["total"] for r in runs]
            print(
                f"  {w} worker(s): {statistics.median(times):.1f} s"
                + (f" (rounds {', '.join(f'{t:.1f}' for t in times)})" if len(times) > 1 else "")
                + "; chunks/busy s per worker: "
                + ", ".join(f"{c}/{s:.1f}" for c, s in busy)
                + f"; load {_load()}",
                flush=True,
            )
    _report(args, sizes, counts, results, in_process, failures, dbs)
    if failures:
        print("\nCORRECTNESS FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("\ncorrectness: every run succeeded, no chunk failed, the same findings per rule "
          "whatever the number of workers (and as in process)")  # fmt: skip
    return 0


def _check(r, label, failures):
    run = r["run"]
    if run.status != run.Status.SUCCEEDED:
        failures.append(f"{label}: run {run.pk} {run.status}: {run.error[:300]}")
    if r["failed_chunks"] or r["undone"]:
        failures.append(f"{label}: failed chunks {r['failed_chunks'][:5]}, undone {r['undone']}")


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f}/{five:.1f}"


def _median(runs):
    return statistics.median(r["total"] for r in runs)


def _report(args, sizes, counts, results, in_process, failures, dbs):
    print(f"\n{'workers':>8}" + "".join(f"{f'{n} schools':>16}" for n in sizes))
    for w in counts:
        print(f"{w:>8}" + "".join(f"{_median(results[(w, n)]):>15.1f}s" for n in sizes))
    print(f"{'process':>8}" + "".join(f"{in_process[n]['total']:>15.1f}s" for n in sizes))
    base = _median(results[(counts[0], sizes[0])])
    for w in counts:
        for n in sizes:
            t = _median(results[(w, n)])
            table_row(
                f"nightly checks, {w} worker{'s' if w > 1 else ''}, {n} schools",
                f"{t:.1f} s",
                baseline=f"{base:.1f} s ({counts[0]} worker, {sizes[0]} schools)",
                ratio=t / base,
            )

    # growth per doubling of the data (per worker count), speed-up per doubling of workers
    growth = {}  # per worker count: from the smallest to the largest size, per doubling
    print("\ngrowth of the time per doubling of the data:")
    for w in counts:
        parts = []
        for a, b in zip(sizes, sizes[1:], strict=False):
            g = (_median(results[(w, b)]) / _median(results[(w, a)])) ** (1 / math.log2(b / a))
            parts.append(f"{a}->{b}: {g:.2f}x")
        if len(sizes) > 1:
            a, b = sizes[0], sizes[-1]
            growth[w] = (_median(results[(w, b)]) / _median(results[(w, a)])) ** (
                1 / math.log2(b / a)
            )
            parts.append(f"{a}->{b}: {growth[w]:.2f}x per doubling")
        print(f"  {w} worker(s): " + ", ".join(parts))
    speedups = {}
    print("speed-up per doubling of the workers:")
    for n in sizes:
        parts = []
        for a, b in zip(counts, counts[1:], strict=False):
            s = (_median(results[(a, n)]) / _median(results[(b, n)])) ** (1 / math.log2(b / a))
            parts.append(f"{a}->{b}: {s:.2f}x")
        speedups[n] = _median(results[(counts[0], n)]) / _median(results[(counts[-1], n)])
        print(f"  {n} schools: " + ", ".join(parts) + f"; {counts[0]}->{counts[-1]}: "
              f"{speedups[n]:.2f}x")  # fmt: skip
    if growth:
        w_worst = max(growth, key=growth.get)
        worst = growth[w_worst]
        table_row(
            "nightly checks, growth per doubling of data",
            f"{worst:.2f}x ({w_worst} worker{'s' if w_worst > 1 else ''}, the highest)",
            baseline=f"{sizes[0]} -> {sizes[-1]} schools",
            ratio=worst,
            target=f"<= {GROWTH_TARGET}",
            verdict="met" if worst <= GROWTH_TARGET else "missed",
        )
    largest = sizes[-1]
    table_row(
        f"nightly checks, speed-up {counts[0]}→{counts[-1]} workers",
        f"{speedups[largest]:.2f}x at {largest} schools",
        baseline=f"{_median(results[(counts[0], largest)]):.1f} s with {counts[0]}",
        ratio=speedups[largest],
        target=">= 1.5 (2 cores: about 2 at most)",
        verdict="met" if speedups[largest] >= 1.5 else "missed",
    )

    # the slowest rules at the largest size, in process
    per_rule = in_process[largest]["per_rule"]
    total = sum(s for _, s in per_rule.values())
    print(f"\nslowest rules at {largest} schools (in process, their chunks summed; "
          f"all {len(per_rule)} rules {total:.1f} s):")  # fmt: skip
    for rule, (chunks, s) in sorted(per_rule.items(), key=lambda kv: -kv[1][1])[:6]:
        print(f"  {rule:<45} {chunks:>4} chunks {s:>7.2f} s  {100 * s / total:>4.0f} %")
    by_rule = in_process[largest]["findings"]
    print("findings per rule: " + ", ".join(f"{r.split('.', 1)[1]} {c}"
                                            for r, (c, _) in by_rule.items()))  # fmt: skip

    _year_vs_window(args, sizes, dbs, failures)
    _capacity(args, sizes, counts, results)


def _year_vs_window(args, sizes, dbs, failures):
    """The run on a whole school year against the window, same schools; the year's size."""
    n = args.year_schools
    if not n:
        return
    window_runs = []
    year_runs = []
    for year, runs in ((True, year_runs), (False, window_runs)):
        dbs.use(dbs.name(n, None if year else args.window))
        _abandon_leftovers()
        from portal.compliance import run_checks

        run_checks(for_date=NIGHT, trigger="bench")  # opens the findings, warms the cache
        for _ in range(2):
            runs.append(_run_in_process())
        if year:
            size = _homework_size()
        for r in runs:
            _check(r, f"{'year' if year else 'window'}, {n} schools", failures)
    t_year, t_window = _median(year_runs), _median(window_runs)
    print(
        f"\nrepresentative: the run (in process, median of 2) on {n} schools with a whole "
        f"school year of homework {t_year:.1f} s, with {args.window} school days "
        f"{t_window:.1f} s (year/window {t_year / t_window:.2f})"
    )
    year_f, window_f = year_runs[-1]["findings"], window_runs[-1]["findings"]
    print(
        "  findings per rule, year/window (random data of the same shape): "
        + ", ".join(
            f"{r.split('.', 1)[1]} {year_f.get(r, (0,))[0]}/{window_f.get(r, (0,))[0]}"
            for r in sorted(set(year_f) | set(window_f))
        )
    )
    item, report = size["homework_homeworkitem"], size["homework_parentreport"]
    print(f"PostgreSQL size of a school year's homework, {n} schools (pg_total_relation_size):")
    for table, s in size.items():
        print(
            f"  {table}: {_mb(s['total'])} ({_mb(s['indexes'])} indexes), {s['rows']:,} rows "
            f"over {s['days']} days ({s['total'] / max(s['rows'], 1):.0f} bytes a row): "
            f"{s['total'] / n / 2**20:.2f} MB a school"
        )
    # the fill has 20 days of reports; a school year has as many report days as item days
    year_bytes = item["total"] + report["total"] * item["days"] / max(report["days"], 1)
    per_school = year_bytes / n
    print(
        f"  a school year (items, reports scaled from {report['days']} to {item['days']} "
        f"days): {_mb(year_bytes)}, {per_school / 2**20:.2f} MB a school; "
        f"{PROVINCE:,} schools: {_gb(per_school * PROVINCE)}"
    )
    table_row(
        f"homework of a school year per school ({n} schools)",
        f"{per_school / 2**20:.2f} MB ({_gb(per_school * PROVINCE)} for {PROVINCE:,} schools)",
    )


def _capacity(args, sizes, counts, results):
    """Per-school cost and workers for a province run under an hour."""
    n, w1 = sizes[-1], counts[0]
    t_large = _median(results[(w1, n)])
    per_school = t_large * w1 / n  # worker-seconds a school, fixed part included
    print(
        f"\ncapacity: {w1} worker{'s' if w1 > 1 else ''} at {n} schools {t_large:.1f} s: "
        f"{1000 * per_school:.1f} worker-ms a school (the fixed part of {len(_rules())} "
        "rules included)"
    )
    if len(sizes) > 1:
        m = sizes[-2]
        marginal = (t_large - _median(results[(w1, m)])) * w1 / (n - m)
        province = t_large * w1 + (PROVINCE - n) * max(marginal, 0)
        print(
            f"  marginal ({m} -> {n} schools): {1000 * marginal:.1f} worker-ms a school; "
            f"{PROVINCE:,} schools: {province:.0f} worker-s ({province / 60:.1f} min with one "
            f"worker); one worker checks {3600 / max(marginal, 1e-9):,.0f} schools in an hour"
        )
    else:
        province = per_school * PROVINCE
    wn = counts[-1]
    efficiency = t_large * w1 / (_median(results[(wn, n)]) * wn)
    need = max(1, math.ceil(province / 3600))
    print(
        f"  workers for a {PROVINCE:,}-school run under one hour: {need} (at the {wn}-worker "
        f"efficiency measured here, {100 * efficiency:.0f} % on {os.cpu_count()} cores: "
        f"{max(1, math.ceil(province / 3600 / max(efficiency, 1e-9)))})"
    )


def _rules():
    from portal.compliance import registry

    return registry()


if __name__ == "__main__":
    sys.exit(main())
