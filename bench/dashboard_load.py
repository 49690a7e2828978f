"""The bureau's dashboard with the other benchmarks' data loaded, through the real web stack.

    .venv/bin/python bench/dashboard_load.py [--reduced] [--skip-whitelist] [--skip-homework]
                                             [--skip-afterschool] [--skip-findings]
                                             [--months homework,current] [--workers 2]
                                             [--requests 20] [--warmup 3] [--concurrency 4]
                                             [--concurrent-requests 40] [--rounds 3]
                                             [--per-data-set 2] [--districts CODE,...]
                                             [--explain] [--profile]

Uses DATABASE_URL's server (or the embedded one) with the separate database <name>_bench and
loads into it the data sets of the other benchmarks by calling their own fill functions, which
create their data once and keep it: bench/whitelist_load.py (five districts WL......, 50,000
institutions, 200,000 courses), bench/afterschool_burst.py (the district ASBURST, one school,
2,000 parents, a course and its lessons) and bench/homework_checks.py (the district
HW1000x30: 1,000 schools, 30,000 classes, 120,000 pupils, a school year of homework and the
parents' reports up to 2026-06-15, about 3-4 minutes the first time). Unless --skip-findings,
it then runs the four nightly homework checks for that night once (portal.compliance
.run_checks, as homework_checks.py does at full size) if the homework district has no
findings yet, so the findings panels have rows to count. --skip-X neither fills nor measures
that data set's districts. Of each data set the first --per-data-set districts (by code) are
measured (2: the five WL districts are alike). The kept panels (portal.dashboard, kept=True:
computed once and refreshed nightly) are then refreshed for every measured district and month,
as the nightly task leaves them; the time that takes is printed (the cost moved to the night).

--reduced (what `make bench` runs, about 1.5 minutes with its fills on an empty database):
data sets of its own size where the fill functions allow it: the homework district
HW100x30 (100 schools, homework_checks._fill(100, 30): about 20 s), the whitelist's reduced
set if bench/whitelist_load.py declares one (REDUCED_FILL, keyword arguments of its _fill,
and REDUCED_CODES, its districts), else its full set (about 15 s), the after-school district
as it is (under a second); one district per data set, 2 warm-ups, 10 sequential and 20
concurrent requests, 3 in-process rounds. Without --reduced: the full data sets, 2 districts
per data set, 20 sequential and 40 concurrent requests per URL (about 3-5 minutes once the
data is there).

A superuser (dashbench_staff, unusable password) is logged in without the password hasher: a
session made with the server's SESSION_ENGINE and the keys django.contrib.auth.login writes,
deleted at the end. The portal is served by gunicorn (DJANGO_DEBUG=false,
PORTAL_PRODUCTION=false, PORTAL_PUBLIC_CACHE_SECONDS left as the environment has it, like the
other benchmarks: the dashboard is a staff page, which that cache never holds) on a free port
of 127.0.0.1. For each district and month (by default the month of the homework data,
2026-06, and the current month) it sends GET /dashboard/?district=<id>&month=YYYY-MM with
the session cookie: --warmup requests, then --requests one after another, then
--concurrent-requests from --concurrency client threads; /ping (Django's smallest view) is
measured the same way before and after. One connection per request (http.client). It
prints p50/p95/p99 and the ratio to /ping.

In-process (Django test Client, the same session) it then counts the queries of each
district's request (CaptureQueriesContext and a timing execute_wrapper, which must agree),
splits a request's time into SQL and Python, times each panel on its own and lists the three
slowest queries. --explain prints EXPLAIN ANALYZE of the slowest queries of the heaviest
district and month, --profile a cProfile of its request.

Target (issue 20): with 4 clients at once, p95 <= 300 ms for every district and month (the
verdict is the worst one's), and a constant number of queries whatever the district
(asserted). The exit status is 1 if a request fails (anything but a 200 with the
dashboard's page, a socket error, an error line in the server's log) or the number of
queries differs between districts or months; a missed target is a verdict, not a failure.
Summary rows (bench/_common.table_row): "dashboard, 4 clients" (the worst p95 against /ping's
p95 with 4 clients), "dashboard, sequential" (no target) and "dashboard, queries per view".
"""

import argparse
import cProfile
import http.client
import io
import math
import os
import pstats
import signal
import statistics
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STAFF = "dashbench_staff"
TARGET_P95_MS = 300
REQUEST_TIMEOUT = 120  # seconds per request (socket timeout)
MARKER = b'id="dashboard-data"'  # the page's chart data: the dashboard itself was rendered


from _common import Gunicorn, setup_bench_database, table_row  # noqa: E402

REDUCED = {"schools": 100, "per_data_set": 1, "warmup": 2, "requests": 10,
           "concurrent_requests": 20, "rounds": 3}  # fmt: skip

# --- the data sets of the other benchmarks ------------------------------------------------


def _load(args) -> list:
    """Call the other benchmarks' fill functions (each creates its data once and keeps it);
    returns the districts to measure, in code order."""
    from portal.models import District

    codes = []
    if not args.skip_whitelist:
        import whitelist_load

        t0 = time.perf_counter()
        kwargs = {"n_institutions": args.institutions, "n_courses": args.courses}
        mine = [code for code, _name, _places in whitelist_load.DISTRICTS]
        reduced = getattr(whitelist_load, "REDUCED_FILL", None)
        if args.reduced and reduced:  # that benchmark's own reduced set (its codes)
            kwargs, mine = dict(reduced), list(whitelist_load.REDUCED_CODES)
        took = whitelist_load._fill(**kwargs)
        print(
            f"whitelist data ({', '.join(f'{k} {v}' for k, v in kwargs.items())}): "
            + ("already there" if took is None else f"filled in {took:.0f} s")
            + f" ({time.perf_counter() - t0:.1f} s)",
            flush=True,
        )
        codes += _of_data_set(mine, args)
    if not args.skip_afterschool:
        import afterschool_burst

        t0 = time.perf_counter()
        offering, family, created = afterschool_burst._world(args.parents, args.capacity, args.fee)
        print(
            f"after-school data: course {offering.pk}, {len(family)} parents ({created} "
            f"created) ({time.perf_counter() - t0:.1f} s)",
            flush=True,
        )
        codes += _of_data_set([afterschool_burst.DISTRICT[0]], args)
    if not args.skip_homework:
        import homework_checks

        t0 = time.perf_counter()
        district, took = homework_checks._fill(args.schools, args.classes_per_school)
        print(
            f"homework data {district.code}: "
            + ("already there" if took is None else f"filled in {took:.0f} s")
            + f" ({time.perf_counter() - t0:.1f} s)",
            flush=True,
        )
        codes += _of_data_set([district.code], args)
        if not args.skip_findings:
            _findings(district, homework_checks)
    return list(District.objects.filter(code__in=codes).order_by("code"))


def _of_data_set(codes, args) -> list:
    """The districts of one data set to measure: the first --per-data-set by code (the
    five WL districts are alike), unless --districts names them."""
    if args.districts:
        return [c for c in codes if c in args.districts.split(",")]
    return sorted(codes)[: args.per_data_set]


def _refresh_kept(districts, months):
    """The kept panels of the measured districts and months, refreshed as the nightly task
    does (portal.dashboard.snapshot_store): the cost moved out of the page."""
    from portal import dashboard

    specs = [spec for spec in dashboard.registry() if spec.kept]
    t0 = time.perf_counter()
    for d in districts:
        for month in months:
            t = time.perf_counter()
            dashboard.snapshot_store(dashboard.Filters(district=d, month=month), specs)
            print(f"  kept panels of {d.code} {month} refreshed in "
                  f"{1000 * (time.perf_counter() - t):.0f} ms", flush=True)  # fmt: skip
    print(f"kept panels ({', '.join(s.key for s in specs)}): the nightly refresh of "
          f"{len(districts) * len(months)} district-months took "
          f"{time.perf_counter() - t0:.1f} s")  # fmt: skip


def _findings(district, homework_checks):
    """The nightly homework checks of the homework data's night, once: the findings the
    homework benchmark's full run writes."""
    from django.db import connection

    from portal.compliance import run_checks
    from portal.models import Finding

    mine = Finding.objects.filter(school__district=district, rule__in=homework_checks.RULES)
    if mine.exists():
        print(f"  findings of {district.code}: {mine.count()} (kept from an earlier run)")
    else:
        t0 = time.perf_counter()
        rules = homework_checks.RULES
        run = run_checks(for_date=homework_checks.NIGHT, trigger="bench", rules=rules)
        print(
            f"  nightly homework checks for {homework_checks.NIGHT}: {run.status}, "
            f"{mine.count()} findings ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    # the planner's statistics, as the other fills leave theirs (autovacuum may be off)
    with connection.cursor() as cur:
        cur.execute("ANALYZE portal_finding")


def _describe(districts):
    from django.db.models import Count, Q

    from institutions.models import Institution
    from portal.models import District

    rows = (
        District.objects.filter(pk__in=[d.pk for d in districts])
        .annotate(
            n_schools=Count("schools", distinct=True),
            n_classes=Count("schools__classes", distinct=True),
        )
        .order_by("code")
    )
    institutions = dict(
        Institution.objects.filter(district__in=districts)
        .values_list("district")
        .annotate(n=Count("pk"))
    )
    from portal.models import Finding

    findings = dict(
        Finding.objects.filter(school__district__in=districts)
        .values_list("school__district")
        .annotate(n=Count("pk", filter=Q(resolved_at__isnull=True)))
    )
    print(f"\n{'district':14}{'id':>6}{'schools':>9}{'classes':>9}{'institutions':>14}"
          f"{'open findings':>15}")  # fmt: skip
    for d in rows:
        print(f"{d.code:14}{d.pk:6}{d.n_schools:9}{d.n_classes:9}{institutions.get(d.pk, 0):14}"
              f"{findings.get(d.pk, 0):15}")  # fmt: skip


# --- the staff session ----------------------------------------------------------------------


def _staff_session() -> str:
    """A superuser with an unusable password and a session made as login() makes it."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.auth.hashers import make_password

    user, _ = get_user_model().objects.update_or_create(
        username=STAFF,
        defaults={"is_staff": True, "is_superuser": True, "is_active": True,
                  "password": make_password(None)},
    )  # fmt: skip
    # what a password login records: the first backend that is not axes's
    backend = next(b for b in settings.AUTHENTICATION_BACKENDS if not b.startswith("axes."))
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = backend
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return store.session_key


def _drop_session(key: str):
    from importlib import import_module

    from django.conf import settings

    import_module(settings.SESSION_ENGINE).SessionStore(key).delete()


# --- serving --------------------------------------------------------------------------------


def _load_note() -> str:
    """The load average and the other tests/benchmarks running (the machine is shared)."""
    others = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmd = (Path("/proc") / pid / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if ("pytest" in cmd or "bench/" in cmd) and "dashboard_load" not in cmd:
            others.append(cmd.strip()[:80])
    load1, load5, _ = os.getloadavg()
    return f"load {load1:.2f} (1 min) {load5:.2f} (5 min); other tests/benchmarks: " + (
        "; ".join(others[:4]) + (f" (+{len(others) - 4})" if len(others) > 4 else "")
        if others
        else "none"
    )


# --- the client -----------------------------------------------------------------------------


def _request(port, path, cookie, expect_page):
    """One GET on a fresh connection: (ok, seconds, what went wrong)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    start = time.perf_counter()
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        body = response.read()
        took = time.perf_counter() - start
        if response.status != 200:
            where = response.getheader("Location") or ""
            return False, took, f"{response.status} {where}".strip()
        if expect_page and MARKER not in body:
            return False, took, "200 without the dashboard's chart data"
        return True, took, ""
    except (OSError, http.client.HTTPException) as exc:
        return False, time.perf_counter() - start, repr(exc)
    finally:
        conn.close()


class Deadline(Exception):
    pass


def _series(port, path, cookie, *, warmup, requests, concurrency, total, deadline):
    """Warm-ups, then `requests` one after another, then `total` from `concurrency`
    threads. Returns {"seq": [...seconds], "conc": [...], "elapsed": s, "errors": [...]}."""
    expect_page = path.startswith("/dashboard/")
    errors = []
    for _ in range(warmup):
        ok, _t, why = _request(port, path, cookie, expect_page)
        if not ok:
            errors.append(f"warm-up: {why}")
    seq = []
    for _ in range(requests):
        if time.monotonic() > deadline:
            raise Deadline(path)
        ok, took, why = _request(port, path, cookie, expect_page)
        seq.append(took)
        if not ok:
            errors.append(why)
    conc = [None] * total
    lock = threading.Lock()
    cursor = iter(range(total))

    def worker():
        while time.monotonic() < deadline:
            with lock:
                i = next(cursor, None)
            if i is None:
                return
            ok, took, why = _request(port, path, cookie, expect_page)
            conc[i] = took
            if not ok:
                with lock:
                    errors.append(why)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + REQUEST_TIMEOUT)
    elapsed = time.perf_counter() - t0
    if any(t.is_alive() for t in threads) or any(c is None for c in conc):
        raise Deadline(path)
    return {"seq": seq, "conc": conc, "elapsed": elapsed, "errors": errors}


def _pct(values, p):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _ms(values) -> dict:
    ms = [1000 * v for v in values]
    return {"p50": _pct(ms, 50), "p95": _pct(ms, 95), "p99": _pct(ms, 99), "max": max(ms)}


def _dashboard_path(district, month) -> str:
    return "/dashboard/?" + urlencode({"district": district.pk, "month": month})


def _over_http(server, districts, months, cookie, args):
    from django.conf import settings

    cookie = f"{settings.SESSION_COOKIE_NAME}={cookie}"
    deadline = time.monotonic() + args.time_limit
    kw = {
        "warmup": args.warmup, "requests": args.requests, "concurrency": args.concurrency,
        "total": args.concurrent_requests, "deadline": deadline,
    }  # fmt: skip
    print(f"\ngunicorn --workers {args.workers} on {server.url}; {_load_note()}", flush=True)
    print(f"  {args.warmup} warm-ups, {args.requests} sequential requests, then "
          f"{args.concurrent_requests} from {args.concurrency} threads, per URL")  # fmt: skip
    results = {}
    pings = [_series(server.port, "/ping", None, **kw)]
    for month in months:
        for d in districts:
            t0 = time.perf_counter()
            r = _series(server.port, _dashboard_path(d, month), cookie, **kw)
            results[(d.code, month)] = r
            s, c = _ms(r["seq"]), _ms(r["conc"])
            print(f"  {d.code:10} {month}: sequential p50 {s['p50']:7.1f} p95 {s['p95']:7.1f} "
                  f"ms; {args.concurrency} clients p95 {c['p95']:7.1f} ms, "
                  f"{len(r['conc']) / r['elapsed']:5.1f} req/s; {len(r['errors'])} errors "
                  f"({time.perf_counter() - t0:.0f} s; load {os.getloadavg()[0]:.1f})",
                  flush=True)  # fmt: skip
    pings.append(_series(server.port, "/ping", None, **kw))
    ping = {
        "seq": pings[0]["seq"] + pings[1]["seq"],
        "conc": pings[0]["conc"] + pings[1]["conc"],
        "elapsed": pings[0]["elapsed"] + pings[1]["elapsed"],
        "errors": pings[0]["errors"] + pings[1]["errors"],
    }
    return results, ping


def _http_report(results, ping, args) -> tuple[bool, bool]:
    """The table, the verdicts and the summary rows: (no request failed, the target met:
    every district and month's p95 with --concurrency clients <= TARGET_P95_MS)."""
    ps = _ms(ping["seq"])
    ping_rps = len(ping["conc"]) / ping["elapsed"]
    print(f"\nGET /dashboard/ through gunicorn (ms; ratio = the p50 / the p95 over /ping's, "
          f"throughput ratio with {args.concurrency} clients)")  # fmt: skip
    clients = f"{args.concurrency} clients"
    print(f"{'':19}{'sequential':>27}{'/ping x':>12}   {clients:>36}{'':8}{'/ping x':>7}")
    print(f"{'district, month':19}{'p50':>9}{'p95':>9}{'p99':>9}{'p50':>6}{'p95':>6}   "
          f"{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}{'req/s':>8}{'req/s':>7}"
          f"{'errors':>8}")  # fmt: skip
    rows = [(f"/ping ({len(ping['seq'])})", ping)] + [
        (f"{code} {month}", r) for (code, month), r in results.items()
    ]
    for title, r in rows:
        s, c = _ms(r["seq"]), _ms(r["conc"])
        rps = len(r["conc"]) / r["elapsed"]
        print(f"{title:19}{s['p50']:9.1f}{s['p95']:9.1f}{s['p99']:9.1f}"
              f"{s['p50'] / ps['p50']:6.0f}{s['p95'] / ps['p95']:6.0f}   "
              f"{c['p50']:9.1f}{c['p95']:9.1f}{c['p99']:9.1f}{c['max']:9.1f}{rps:8.1f}"
              f"{rps / ping_rps:7.3f}{len(r['errors']):8}")  # fmt: skip
    clean = all(not r["errors"] for _t, r in rows)
    for title, r in rows:
        for why in r["errors"][:3]:
            print(f"  FAIL {title}: {why}")
    met = True
    print(
        f"\ntarget p95 <= {TARGET_P95_MS} ms with {args.concurrency} clients at once "
        f"({args.workers} gunicorn workers; the sequential p95 for comparison):"
    )
    for (code, month), r in results.items():
        s, c = _ms(r["seq"]), _ms(r["conc"])
        ok = c["p95"] <= TARGET_P95_MS
        met &= ok
        print(f"  {code:10} {month}: {args.concurrency} clients p95 {c['p95']:7.1f} ms "
              f"{'met' if ok else 'NOT met'} (sequential p95 {s['p95']:.1f} ms)")  # fmt: skip
    worst_c = max(results, key=lambda k: _ms(results[k]["conc"])["p95"])
    worst_s = max(results, key=lambda k: _ms(results[k]["seq"])["p95"])
    pc, wc, ws = _ms(ping["conc"]), _ms(results[worst_c]["conc"]), _ms(results[worst_s]["seq"])
    table_row(
        f"dashboard, {args.concurrency} clients",
        f"p95 {wc['p95']:.0f} ms (worst: {' '.join(worst_c)})",
        baseline=f"/ping p95 {pc['p95']:.1f} ms",
        ratio=wc["p95"] / pc["p95"],
        target=f"p95 <= {TARGET_P95_MS} ms",
        verdict="met" if met else "missed",
    )
    table_row(
        "dashboard, sequential",
        f"p95 {ws['p95']:.0f} ms (worst: {' '.join(worst_s)})",
        baseline=f"/ping p95 {ps['p95']:.1f} ms",
        ratio=ws["p95"] / ps["p95"],
    )
    return clean, met


# --- in-process: queries, SQL vs Python, panels ------------------------------------------


class Timer:
    """An execute_wrapper recording each query's SQL, parameters and seconds."""

    def __init__(self):
        self.queries = []

    def __call__(self, execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((sql, params, time.perf_counter() - t))


def _client(session_key):
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    return client


def _in_process(districts, months, session_key, rounds):
    """Per district and month: queries per request (every round), the median wall and SQL
    time, the median time of each query (by position) and each panel's time and queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portal import dashboard

    client = _client(session_key)
    out = {}
    for month in months:
        for d in districts:
            path = _dashboard_path(d, month)
            response = client.get(path, HTTP_HOST="127.0.0.1")  # warm
            assert response.status_code == 200, (path, response.status_code)
            walls, sqls, counts, per_query = [], [], [], []
            for _ in range(rounds):
                timer = Timer()
                with CaptureQueriesContext(connection) as ctx, connection.execute_wrapper(timer):
                    t = time.perf_counter()
                    response = client.get(path, HTTP_HOST="127.0.0.1")
                    walls.append(time.perf_counter() - t)
                assert response.status_code == 200, (path, response.status_code)
                assert len(ctx.captured_queries) == len(timer.queries)
                counts.append(len(ctx.captured_queries))
                sqls.append(sum(q[2] for q in timer.queries))
                per_query.append(timer.queries)
            queries = []
            if len(set(counts)) == 1:
                for i, (sql, params, _t) in enumerate(per_query[-1]):
                    queries.append((statistics.median(r[i][2] for r in per_query), sql, params))
            panels, refresh = {}, {}
            f = dashboard.Filters(district=d, month=month)
            for spec in dashboard.registry():
                # a kept panel as the page reads it (alone: one query; the page reads every
                # kept panel in that one query), and what computing it costs (the nightly
                # refresh, or the first view of a month)
                ways = [("view", lambda s=spec, f=f: dashboard.kept_panels(f, [s]))] * spec.kept
                ways.append(("compute", lambda s=spec, f=f: s.func(f)))
                for way, call in ways:
                    times, n = [], 0
                    for _ in range(max(1, rounds // 2)):
                        timer = Timer()
                        with connection.execute_wrapper(timer):
                            t = time.perf_counter()
                            call()
                            times.append(time.perf_counter() - t)
                        n = len(timer.queries)
                    if way == "view" or not spec.kept:
                        panels[spec.key] = (statistics.median(times), n)
                    else:
                        refresh[spec.key] = (statistics.median(times), n)
            out[(d.code, month)] = {
                "wall": statistics.median(walls), "sql": statistics.median(sqls),
                "counts": counts, "queries": queries, "panels": panels, "path": path,
                "refresh": refresh,
                "bytes": len(response.content),
            }  # fmt: skip
    return out


def _short(sql: str, n: int = 150) -> str:
    sql = " ".join(sql.split())
    return sql[:n] + (" ..." if len(sql) > n else "")


def _in_process_report(res, rounds) -> bool:
    print(f"\nin-process (Django test Client, median of {rounds} requests each):")
    print(f"{'district, month':19}{'queries':>9}{'ms':>9}{'SQL ms':>9}{'Python ms':>11}"
          f"{'page kB':>9}")  # fmt: skip
    for (code, month), r in res.items():
        counts = sorted(set(r["counts"]))
        print(f"{code + ' ' + month:19}{'/'.join(map(str, counts)):>9}{1000 * r['wall']:9.1f}"
              f"{1000 * r['sql']:9.1f}{1000 * (r['wall'] - r['sql']):11.1f}"
              f"{r['bytes'] / 1024:9.0f}")  # fmt: skip
    keys = list(next(iter(res.values()))["panels"])
    columns = list(res)
    print(
        "\neach panel on its own as the page reads it (ms / queries; a kept panel, marked *, "
        "from its snapshot: the page reads all of them in one query); 'rest' = the request "
        "minus the panels (session, user, template, middleware):"
    )
    kept = set(next(iter(res.values()))["refresh"])
    width = 12
    print(f"{'panel':28}" + "".join(f"{code[: width - 1]:>{width}}" for code, _m in columns))
    print(f"{'':28}" + "".join(f"{month:>{width}}" for _c, month in columns))
    for key in keys:
        cells = []
        for c in columns:
            ms, n = res[c]["panels"][key]
            cells.append(f"{1000 * ms:.0f}/{n}".rjust(width))
        print(f"{key + (' *' if key in kept else ''):28}{''.join(cells)}")
    rest = "".join(
        f"{1000 * (res[c]['wall'] - sum(t for t, _n in res[c]['panels'].values())):>{width}.0f}"
        for c in columns
    )
    print(f"{'rest':28}{rest}")
    if kept:
        print("\nthe kept panels computed (ms / queries): the nightly refresh's cost, or the "
              "first view of a month")  # fmt: skip
        for key in sorted(kept):
            cells = "".join(
                f"{1000 * res[c]['refresh'][key][0]:.0f}/{res[c]['refresh'][key][1]}".rjust(width)
                for c in columns
            )
            print(f"{key:28}{cells}")
    print("\nthe 3 slowest queries of each request (median ms):")
    for (code, month), r in res.items():
        print(f"  {code} {month}:")
        for ms, sql, _params in sorted(r["queries"], key=lambda q: -q[0])[:3]:
            print(f"    {1000 * ms:8.1f}  {_short(sql)}")
    every = {n for r in res.values() for n in r["counts"]}
    by_month = {}
    for (code, month), r in res.items():
        by_month.setdefault(month, {})[code] = sorted(set(r["counts"]))
    same = len(every) == 1
    print("\nqueries per request: " + "; ".join(
        f"{month}: " + ", ".join(f"{c} {'/'.join(map(str, n))}" for c, n in codes.items())
        for month, codes in by_month.items()
    ))  # fmt: skip
    walls = sorted(1000 * r["wall"] for r in res.values())
    table_row(
        "dashboard, queries per view",
        f"{'/'.join(map(str, sorted(every)))} queries; "
        f"in-process {walls[0]:.0f}-{walls[-1]:.0f} ms",
        baseline=f"{len(res)} district-months",
    )
    if same:
        print(f"  ok   the same for every district and month: {every.pop()}")
    else:
        print(f"  FAIL the number of queries differs: {sorted(every)}; by panel:")
        for key in keys:
            ns = {c: res[c]["panels"][key][1] for c in columns}
            if len(set(ns.values())) > 1:
                print(f"       {key}: " + ", ".join(f"{c[0]} {c[1]} {n}" for c, n in ns.items()))
    return same


def _explain(r, n=3):
    from django.db import connection

    slowest = sorted(r["queries"], key=lambda q: -q[0])[:n]
    for ms, sql, params in slowest:
        print(f"\n=== EXPLAIN ANALYZE ({1000 * ms:.1f} ms in the request): {_short(sql, 400)}")
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            print("\n".join(row[0] for row in cur.fetchall()))


def _profile(path, session_key, rounds):
    client = _client(session_key)
    client.get(path, HTTP_HOST="127.0.0.1")
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(rounds):
        client.get(path, HTTP_HOST="127.0.0.1")
    prof.disable()
    for order, limit, chars in [("cumulative", 40, 10000), ("tottime", 20, 6000)]:
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats(order).print_stats(limit)
        print(f"\n=== cProfile of {path} ({rounds} requests), by {order} time")
        print(buf.getvalue()[:chars])


# --- main -----------------------------------------------------------------------------------


def _months(spec: str) -> list[str]:
    import datetime as dt

    import homework_checks
    from django.utils import timezone

    out = []
    for item in (s.strip() for s in spec.split(",")):
        if item == "homework":
            item = f"{homework_checks.NIGHT:%Y-%m}"
        elif item == "current":
            item = f"{timezone.localdate():%Y-%m}"
        dt.date.fromisoformat(f"{item}-01")  # YYYY-MM or an error
        if item not in out:
            out.append(item)
    return out


def main():
    parser = argparse.ArgumentParser()
    scale = ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in REDUCED.items())
    parser.add_argument("--reduced", action="store_true", help=f"make bench's scale: {scale}")
    parser.add_argument("--skip-whitelist", action="store_true")
    parser.add_argument("--skip-afterschool", action="store_true")
    parser.add_argument("--skip-homework", action="store_true")
    parser.add_argument("--skip-findings", action="store_true",
                        help="do not run the homework checks that write findings")  # fmt: skip
    # the other benchmarks' defaults: another size makes them fill (or refill) their data
    parser.add_argument("--institutions", type=int, default=50000)
    parser.add_argument("--courses", type=int, default=200000)
    parser.add_argument("--parents", type=int, default=2000)
    parser.add_argument("--capacity", type=int, default=300)
    parser.add_argument("--fee", type=Decimal, default=Decimal("5"))
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--classes-per-school", type=int, default=30)
    parser.add_argument("--months", default="homework,current",
                        help="YYYY-MM, 'homework' (its data's month), 'current'")  # fmt: skip
    parser.add_argument("--districts", default="", help="only these codes (comma-separated)")
    parser.add_argument("--per-data-set", type=int, default=2,
                        help="districts measured of each data set (the first by code)")  # fmt: skip
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--requests", type=int, default=20, help="sequential, per URL")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    parser.add_argument("--concurrent-requests", type=int, default=40, help="per URL")
    parser.add_argument("--rounds", type=int, default=3, help="in-process requests per URL")
    parser.add_argument("--time-limit", type=int, default=1800,
                        help="seconds the HTTP measurements may take in all")  # fmt: skip
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.reduced:
        for key, value in REDUCED.items():
            setattr(args, key, value)
    if min(args.requests, args.concurrency, args.concurrent_requests, args.rounds,
           args.per_data_set) < 1:  # fmt: skip
        parser.error("--requests, --concurrency, --concurrent-requests, --rounds and "
                     "--per-data-set must be >= 1")  # fmt: skip
    if args.skip_whitelist and args.skip_afterschool and args.skip_homework:
        parser.error("nothing to measure")
    # a SIGTERM unwinds like Ctrl-C, so gunicorn and the embedded servers are stopped
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    services = setup_bench_database()
    session_key = None
    try:
        from django.conf import settings
        from django.db import connection

        months = _months(args.months)
        t0 = time.perf_counter()
        districts = _load(args)
        print(f"data loaded in {time.perf_counter() - t0:.0f} s; months {', '.join(months)}; "
              f"PORTAL_PUBLIC_CACHE_SECONDS={settings.PORTAL_PUBLIC_CACHE_SECONDS}")  # fmt: skip
        _describe(districts)
        _refresh_kept(districts, months)
        session_key = _staff_session()
        connection.close()

        with tempfile.TemporaryDirectory(prefix="dashboard-load-") as folder:
            server = Gunicorn(args.workers, Path(folder) / "gunicorn.log")
            try:
                server.start()
                try:
                    results, ping = _over_http(server, districts, months, session_key, args)
                except Deadline as exc:
                    print(f"FAIL: the HTTP measurements passed --time-limit {args.time_limit} s "
                          f"(at {exc})")  # fmt: skip
                    return 1
            finally:
                server.stop()
                problems = server.problems()
        clean, met = _http_report(results, ping, args)
        print(f"server log: {len(problems)} error lines"
              + "".join(f"\n    {line[:160]}" for line in problems[:5]))  # fmt: skip
        clean &= not problems

        res = _in_process(districts, months, session_key, args.rounds)
        same = _in_process_report(res, args.rounds)
        heaviest = max(res, key=lambda k: res[k]["wall"])
        if args.explain:
            print(f"\nthe heaviest request: {' '.join(heaviest)}")
            _explain(res[heaviest])
        if args.profile:
            _profile(res[heaviest]["path"], session_key, args.rounds)

        print(f"\nat the end: {_load_note()}")
        print(
            f"target p95 <= {TARGET_P95_MS} ms with {args.concurrency} clients: "
            f"{'met' if met else 'NOT met'} (slowest in-process: {' '.join(heaviest)}); "
            "queries constant across districts: "
            f"{'yes' if same else 'NO'}; every request answered: {'yes' if clean else 'NO'}"
        )
        return 0 if clean and same else 1
    finally:
        if session_key:
            try:
                _drop_session(session_key)
            except Exception as exc:  # the bench database only; report and go on
                print(f"could not delete the benchmark's session: {exc}")
        services.stop()


if __name__ == "__main__":
    sys.exit(main())
