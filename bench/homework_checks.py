"""The nightly homework checks over 1,000 schools, 30,000 classes and a school year of homework.

    .venv/bin/python bench/homework_checks.py [--schools 1000] [--classes-per-school 30]
                                              [--fraction 0.1,1] [--rounds 3] [--explain]
                                              [--reduced]

Uses DATABASE_URL's server (or the embedded one) with a separate database, <name>_bench,
filled once with set-based SQL (INSERT ... SELECT FROM generate_series) and kept for the
next run: one district with its terms, the schools (primary: grades 1-6, junior: 7-9), one
staff account per school, the classes, four pupils and parents per class, about 5 million
homework items over the school days of 2025-09-01..2026-07-03 and the parents' reports of
the last 20 school days before the measured night.

For each fraction of the classes (the first classes by primary key, cut into the engine's
chunks) it times the four homework checks as the engine calls them (one set-based query
per rule and chunk, findings not written) against a naive per-class ORM loop that computes
the same four rules, and checks that both find the same (rule, class) pairs. At full size
it also times the real engine path, portal.compliance.run_checks for the four homework
rules, which writes the Finding rows. Targets (the issue): the set-based checks at least
50 times faster than the naive loop, and the nightly run under 60 s on a 2-core machine.

``--reduced`` (``make bench``): 100 schools (the data set ``HW100x30``), one round; about
70 s with its first fill. ``_fill(..., window=n)`` (bench/checks_scale.py) keeps only the
last n school days of homework up to the night, under its own district code.
"""

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

YEAR_START = dt.date(2025, 9, 1)
YEAR_END = dt.date(2026, 7, 3)
NIGHT = dt.date(2026, 6, 15)  # a Monday in the second term
REPORT_DAYS = 20  # parents report over the last 20 school days up to the night
PUPILS_PER_CLASS = 4
PERIODS = [
    ("term", "2025-2026学年第一学期", dt.date(2025, 9, 1), dt.date(2026, 1, 16)),
    ("winter", "2026年寒假", dt.date(2026, 1, 17), dt.date(2026, 3, 1)),
    ("term", "2025-2026学年第二学期", dt.date(2026, 3, 2), dt.date(2026, 7, 3)),
    ("summer", "2026年暑假", dt.date(2026, 7, 4), dt.date(2026, 8, 31)),
]
RULES = [
    "homework.class.over_limit_published",
    "homework.class.over_limit_reported",
    "homework.class.not_published",
    "homework.class.written_in_grades_1_2",
]
NAIVE_MEASURE_LIMIT = 300  # seconds: beyond this the naive loop is extrapolated, not run


from _common import setup_bench_database, table_row  # noqa: E402

# --- the data ------------------------------------------------------------------------------


def _marker(schools: int, per_school: int, window: int | None = None) -> str:
    """The district code of this data set (District.code: 12 characters at most); a data
    set with only the last ``window`` school days of homework has its own code."""
    code = f"HW{schools}x{per_school}" + (f"w{window}" if window else "")
    if len(code) > 12:
        raise ValueError(f"district code {code} is longer than 12 characters")
    return code


def _school_days(district) -> list[dt.date]:
    from portal.schoolcalendar import day_info

    days, day = [], YEAR_START
    while day <= YEAR_END:
        if day_info(day, district).school_day:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _step(label, t0):
    print(f"  {label} ({time.perf_counter() - t0:.0f} s)", flush=True)


def _fill(schools: int, per_school: int, *, window: int | None = None):
    """Create the data set once (one transaction: it is there whole or not at all).

    ``window``: homework only on the last ``window`` school days up to the measured night
    (the checks read the night's rows only; bench/checks_scale.py shows that such a data set
    costs the checks what a whole school year does); the parents' reports are the same."""
    from django.db import connection, transaction

    from portal.models import District, SchoolPeriod

    code = _marker(schools, per_school, window)
    district = District.objects.filter(code=code).first()
    if district is not None:
        return district, None
    print(f"filling the data set {code} (once; kept in the bench database) ...", flush=True)
    t0 = time.perf_counter()
    primary = "{语文,数学,英语,科学,道德与法治}"
    junior = "{语文,数学,英语,物理,化学,生物,历史,地理,道德与法治}"
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL work_mem = '256MB'")
        cur.execute("SET LOCAL synchronous_commit = off")
        district = District.objects.create(code=code, name=f"基准区{code}")
        SchoolPeriod.objects.bulk_create(
            SchoolPeriod(district=district, kind=k, name=n, start=s, end=e)
            for k, n, s, e in PERIODS
        )
        days = _school_days(district)
        if NIGHT not in days:
            raise RuntimeError(f"{NIGHT} is not a school day of the bench district")
        upto = days.index(NIGHT) + 1
        report_days = days[max(0, upto - REPORT_DAYS) : upto]
        if window:
            days = days[max(0, upto - window) : upto]
        p = {"d": district.pk, "code": code, "n": schools, "per": per_school}
        cur.execute(
            """INSERT INTO portal_school (code, name, stage, district_id)
            SELECT %(code)s || 'S' || lpad(n::text, 5, '0'),
                   '基准第' || n || CASE WHEN mod(n, 3) = 0 THEN '中学' ELSE '小学' END,
                   CASE WHEN mod(n, 3) = 0 THEN 'junior' ELSE 'primary' END, %(d)s
            FROM generate_series(1, %(n)s) n ORDER BY n""",
            p,
        )
        cur.execute(
            """INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                                      email, is_staff, is_active, date_joined)
            SELECT '!', false, lower(%(code)s) || '_t' || s.id, '', '', '', false, true, now()
            FROM portal_school s WHERE s.district_id = %(d)s""",
            p,
        )
        cur.execute(
            """INSERT INTO portal_schoolstaff (user_id, school_id, role, name)
            SELECT u.id, s.id, 'academic', '教导处' || s.id
            FROM portal_school s JOIN auth_user u ON u.username = lower(%(code)s) || '_t' || s.id
            WHERE s.district_id = %(d)s""",
            p,
        )
        # primary: grades 1-6, junior: 7-9, the classes spread evenly over the grades;
        # primary keys in school order, so the first tenth is the first tenth of schools
        cur.execute(
            """INSERT INTO portal_schoolclass (school_id, grade, number)
            SELECT s.id, g.first + mod(i, g.n), i / g.n + 1
            FROM portal_school s
            CROSS JOIN LATERAL (SELECT CASE WHEN s.stage = 'junior' THEN 7 ELSE 1 END AS first,
                                       CASE WHEN s.stage = 'junior' THEN 3 ELSE 6 END AS n) g
            CROSS JOIN generate_series(0, %(per)s - 1) i
            WHERE s.district_id = %(d)s
            ORDER BY s.id, g.first + mod(i, g.n), i / g.n""",
            p,
        )
        _step(f"{len(days)} school days, {schools} schools, their staff and classes", t0)
        lo, hi, _count = _class_range(district)
        p |= {"lo": lo, "hi": hi, "pupils": PUPILS_PER_CLASS}
        cur.execute(
            """INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                                      email, is_staff, is_active, date_joined)
            SELECT '!', false, lower(%(code)s) || '_p' || c || '_' || k, '', '', '', false,
                   true, now()
            FROM generate_series(%(lo)s, %(hi)s) c, generate_series(1, %(pupils)s) k""",
            p,
        )
        cur.execute(
            """INSERT INTO portal_parent (user_id, name, phone)
            SELECT id, '家长' || substr(username, length(%(code)s) + 3),
                   '139' || lpad(id::text, 8, '0')
            FROM auth_user WHERE username LIKE lower(%(code)s) || '\\_p%%'""",
            p,
        )
        cur.execute(
            """INSERT INTO portal_child (name, school_id, school_class_id)
            SELECT '学生' || c.id || '_' || k, c.school_id, c.id
            FROM portal_schoolclass c, generate_series(1, %(pupils)s) k
            WHERE c.id BETWEEN %(lo)s AND %(hi)s ORDER BY c.id, k""",
            p,
        )
        cur.execute(
            """INSERT INTO portal_child_parents (child_id, parent_id)
            SELECT ch.id, pa.id FROM portal_child ch
            JOIN portal_parent pa ON substr(pa.name, 3) = substr(ch.name, 3)
            JOIN auth_user u ON u.id = pa.user_id
            WHERE ch.school_class_id BETWEEN %(lo)s AND %(hi)s
              AND u.username LIKE lower(%(code)s) || '\\_p%%'""",
            p,
        )
        _step(f"{(hi - lo + 1) * PUPILS_PER_CLASS} pupils and parents", t0)
        # Per class and school day: a first item (1% of days none), a second one on 4%;
        # 3% of items in grades 3-9 take 45-100 minutes, the rest 10-40; grades 1-2 get
        # practice (non-written) items, 2% written ones; 10% optional, 0.5% withdrawn.
        items = """
            INSERT INTO homework_homeworkitem (school_class_id, date, subject, content,
                minutes, kind, required, written, layer, status, published_by_id,
                published_at, updated_at)
            SELECT class_id, day, subject, subject || '：第' || (day - %(start)s) || '课练习',
                   minutes, CASE WHEN NOT written THEN 'practice' WHEN NOT required
                                 THEN 'extended' ELSE 'basic' END,
                   required, written, '', status, staff_id, day + time '17:30',
                   day + time '17:30'
            FROM (
                SELECT c.id AS class_id, d.day, st.id AS staff_id,
                    (CASE WHEN c.grade >= 7 THEN %(junior)s::text[] ELSE %(primary)s::text[] END)
                        [1 + mod((d.day - %(start)s) * 2 + slot + c.id::int,
                                 CASE WHEN c.grade >= 7 THEN 9 ELSE 5 END)] AS subject,
                    CASE WHEN c.grade <= 2 THEN 10 + floor(random() * 21)
                         WHEN random() < 0.03 THEN 45 + floor(random() * 56)
                         ELSE 10 + floor(random() * 31) END AS minutes,
                    CASE WHEN c.grade <= 2 THEN random() < 0.02
                         ELSE random() >= 0.05 END AS written,
                    c.grade <= 2 OR random() >= 0.1 AS required,
                    CASE WHEN random() < 0.005 THEN 'withdrawn' ELSE 'published' END AS status
                FROM unnest(%(days)s::date[]) d(day)
                CROSS JOIN portal_schoolclass c
                JOIN portal_schoolstaff st ON st.school_id = c.school_id
                -- lateral: the number of items is drawn per class and day
                CROSS JOIN LATERAL generate_series(1, CASE WHEN c.id < 0 THEN 0
                    WHEN random() < 0.01 THEN 0 WHEN random() < 0.04 THEN 2 ELSE 1 END) slot
                WHERE c.id BETWEEN %(lo)s AND %(hi)s
                ORDER BY d.day, c.id, slot
            ) AS generated"""
        months = sorted({(d.year, d.month) for d in days})
        for year, month in months:
            batch = [d for d in days if (d.year, d.month) == (year, month)]
            cur.execute(
                items,
                p | {"days": batch, "start": YEAR_START, "primary": primary, "junior": junior},
            )
            _step(f"homework items of {year}-{month:02d}: {cur.rowcount}", t0)
        # Reports: 85% of the pupils each day; 2% of the classes ("heavy") report more than
        # the limit, the others 30-90% of it (grades 1-2: 0 minutes, 1% 10 minutes).
        cur.execute(
            """INSERT INTO homework_parentreport (child_id, school_class_id, date, minutes,
                                                  reported_by_id, reported_at)
            SELECT ch.id, c.id, d.day,
                CASE WHEN mod(c.id, 50) = 0 THEN
                         CASE WHEN c.grade <= 2 THEN 20 + floor(random() * 20)
                              WHEN c.grade <= 6 THEN 70 + floor(random() * 40)
                              ELSE 100 + floor(random() * 40) END
                     WHEN c.grade <= 2 THEN CASE WHEN random() < 0.01 THEN 10 ELSE 0 END
                     ELSE floor((CASE WHEN c.grade <= 6 THEN 60 ELSE 90 END)
                                * (0.3 + random() * 0.6)) END,
                cp.parent_id, d.day + time '21:00'
            FROM portal_child ch
            JOIN portal_child_parents cp ON cp.child_id = ch.id
            JOIN portal_schoolclass c ON c.id = ch.school_class_id
            CROSS JOIN unnest(%(days)s::date[]) d(day)
            WHERE c.id BETWEEN %(lo)s AND %(hi)s AND random() < 0.85
            ORDER BY d.day, c.id, ch.id""",
            p | {"days": report_days},
        )
        _step(f"parent reports: {cur.rowcount}", t0)
    with connection.cursor() as cur:
        for table in [
            "auth_user", "portal_school", "portal_schoolstaff", "portal_schoolclass",
            "portal_parent", "portal_child", "portal_child_parents",
            "homework_homeworkitem", "homework_parentreport",
        ]:  # fmt: skip
            cur.execute(f"VACUUM ANALYZE {table}")
    fill_time = time.perf_counter() - t0
    _step("VACUUM ANALYZE done; fill complete", t0)
    return district, fill_time


def _class_range(district):
    from django.db.models import Count, Max, Min

    from portal.models import SchoolClass

    r = SchoolClass.objects.filter(school__district=district).aggregate(
        lo=Min("pk"), hi=Max("pk"), n=Count("pk")
    )
    return r["lo"], r["hi"], r["n"]


# --- the two ways of checking a night ------------------------------------------------------


def _chunks(lo, hi):
    """The engine's chunks (portal.compliance._chunks_for) over the classes lo..hi."""
    from django.conf import settings

    from portal.models import SchoolClass

    size = settings.PORTAL_CHECK_CHUNK_SIZE
    pks = list(
        SchoolClass.objects.filter(pk__gte=lo, pk__lte=hi)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return [(pks[i], pks[min(i + size, len(pks)) - 1]) for i in range(0, len(pks), size)]


def set_based(chunks) -> set:
    """The registered checks, called as run_chunk calls them; findings not written."""
    from portal.compliance import registry

    checks = registry()
    found = set()
    for code in RULES:
        check = checks[code]
        for lo, hi in chunks:
            for f in check.func(NIGHT, check.over().filter(pk__gte=lo, pk__lte=hi)):
                found.add((code, f.subject.pk))
    return found


def naive(lo, hi, *, meta_ordering=True) -> set:
    """What one writes without thinking in sets: every class, its items and its reports.

    Two queries per class, the calendar asked once per district. ``meta_ordering=False``
    adds .order_by() (HomeworkItem's Meta.ordering once named the "school_class" relation,
    which Django expanded into three joins per query; it now names the column)."""
    from homework.models import HomeworkItem, HomeworkPolicy, ParentReport
    from portal.models import SchoolClass
    from portal.schoolcalendar import CalendarUnknownDay, day_info

    policy = HomeworkPolicy.current()
    published = HomeworkItem.Status.PUBLISHED
    school_day = {}  # per district: the calendar is asked once, not per class
    found = set()
    for c in SchoolClass.objects.filter(pk__gte=lo, pk__lte=hi).select_related("school__district"):
        limit = policy.limit_for(c.grade)
        items = HomeworkItem.objects.filter(school_class=c, date=NIGHT)
        items = list(items if meta_ordering else items.order_by())
        counted = sum(
            i.minutes
            for i in items
            if i.status == published and policy.counts(required=i.required, written=i.written)
        )
        if counted > limit:
            found.add((RULES[0], c.pk))
        # the reported-minutes rule is for grades 3-9 (grades 1-2: the written-homework rule)
        reports = [r.minutes for r in ParentReport.objects.filter(school_class=c, date=NIGHT)]
        if (
            c.grade >= 3
            and len(reports) >= policy.min_reports
            and sum(reports) / len(reports) > limit
        ):
            found.add((RULES[1], c.pk))
        if c.grade >= 3:
            district = c.school.district
            if district.pk not in school_day:
                try:
                    school_day[district.pk] = day_info(NIGHT, district).school_day
                except CalendarUnknownDay:
                    school_day[district.pk] = False
            if school_day[district.pk] and not any(i.status == published for i in items):
                found.add((RULES[2], c.pk))
        if c.grade <= 2 and any(i.written and i.status == published for i in items):
            found.add((RULES[3], c.pk))
    return found


def _timed(fn, *args):
    t = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t, result


def _explain(chunks):
    """EXPLAIN ANALYZE of every query the four checks make for one chunk in the middle."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lo, hi = chunks[len(chunks) // 2]
    print(f"\nEXPLAIN ANALYZE, one chunk (classes {lo}-{hi}):")
    with CaptureQueriesContext(connection) as ctx:
        set_based([(lo, hi)])
    with connection.cursor() as cur:
        for q in ctx.captured_queries:
            if not q["sql"].startswith("SELECT"):
                continue
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
            plan = [row[0] for row in cur.fetchall()]
            print(f"\n-- {q['sql'][:300]}{' ...' if len(q['sql']) > 300 else ''}")
            print("\n".join(plan))


def _count_items(lo, hi):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(*) FILTER (WHERE date = %s) FROM homework_homeworkitem"
            " WHERE school_class_id BETWEEN %s AND %s",
            [NIGHT, lo, hi],
        )
        return cur.fetchone()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--reduced",
        action="store_true",
        help="the scale of `make bench`: 100 schools (data set HW100x30), one round",
    )
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--classes-per-school", type=int, default=30)
    parser.add_argument("--fraction", default="0.1,1", help="comma-separated, e.g. 0.1,1")
    parser.add_argument("--rounds", type=int, default=3, help="set-based timing: median of")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the queries")
    args = parser.parse_args()
    if args.reduced:
        args.schools, args.rounds = 100, 1
    fractions = sorted({float(f) for f in args.fraction.split(",") if f.strip()})
    if not fractions or not all(0 < f <= 1 for f in fractions):
        parser.error("fractions must be in (0, 1]")
    services = setup_bench_database()
    try:
        return _bench(args, fractions)
    finally:
        services.stop()


def _bench(args, fractions):
    from django.conf import settings

    from portal.compliance import run_checks
    from portal.models import Finding, SchoolClass
    from portal.schoolcalendar import day_info

    district, fill_time = _fill(args.schools, args.classes_per_school)
    if fill_time is None:
        print(f"data set {district.code}: already filled, kept from an earlier run")
    else:
        print(f"fill time: {fill_time:.0f} s")
    info = day_info(NIGHT, district)
    assert info.school_day, f"{NIGHT} is not a school day: {info}"
    print(f"measured night: {NIGHT} ({NIGHT:%A}), a school day of {district.name}")
    lo, hi, n_classes = _class_range(district)
    assert hi - lo + 1 == n_classes, "the data set's classes are not one range of keys"
    total_items, _ = _count_items(lo, hi)
    others = SchoolClass.objects.exclude(pk__gte=lo, pk__lte=hi).count()
    print(f"{n_classes} classes, {total_items} homework items in the data set", end="")
    print(f" ({others} other classes in the database)" if others else "")

    set_based(_chunks(lo, hi))  # warm-up: registry, caches, the night's pages
    rows, found_full = [], None
    for fraction in fractions:
        sub_hi = lo + max(1, round(n_classes * fraction)) - 1
        chunks = _chunks(lo, sub_hi)
        classes = sub_hi - lo + 1
        items, night_items = _count_items(lo, sub_hi)
        times = []
        for _ in range(max(1, args.rounds)):
            t, found = _timed(set_based, chunks)
            times.append(t)
        t_set = statistics.median(times)
        measured_rows = [r for r in rows if r["naive_measured"]]
        estimate = (
            measured_rows[-1]["naive"] * classes / measured_rows[-1]["classes"]
            if measured_rows
            else 0
        )
        if estimate > NAIVE_MEASURE_LIMIT:
            t_naive, naive_measured, same = estimate, False, None
        else:
            t_naive, naive_found = _timed(naive, lo, sub_hi)
            naive_measured, same = True, naive_found == found
            if not same:
                print(f"  set-based only: {sorted(found - naive_found)[:10]}")
                print(f"  naive only: {sorted(naive_found - found)[:10]}")
        rows.append(
            {
                "fraction": fraction,
                "classes": classes,
                "chunks": len(chunks),
                "items": items,
                "night_items": night_items,
                "set": t_set,
                "set_all": times,
                "naive": t_naive,
                "naive_measured": naive_measured,
                "same": same,
                "findings": len(found),
                "found": found,
                "by_rule": {code: sum(1 for r, _ in found if r == code) for code in RULES},
            }
        )
        if fraction == 1:
            found_full = found
        print(
            f"  {fraction:g}: set-based {t_set:.2f} s (rounds: "
            f"{', '.join(f'{t:.2f}' for t in times)}), naive {t_naive:.1f} s"
            f"{'' if naive_measured else ' (extrapolated)'}",
            flush=True,
        )

    first = rows[0]
    if first["naive_measured"]:
        t_plain, plain_found = _timed(
            lambda: naive(lo, lo + first["classes"] - 1, meta_ordering=False)
        )
        first["naive_plain"] = t_plain
        first["same"] = first["same"] and plain_found == first["found"]

    if args.explain:
        _explain(_chunks(lo, hi))

    engine = None
    if found_full is not None:
        t_engine, run = _timed(lambda: run_checks(for_date=NIGHT, trigger="bench", rules=RULES))
        engine_found = {
            (rule, int(object_id))
            for rule, object_id in Finding.objects.filter(
                last_run=run, resolved_at=None, rule__in=RULES
            ).values_list("rule", "object_id")
        }
        mine = {(r, pk) for r, pk in engine_found if lo <= pk <= hi}
        engine = {"time": t_engine, "run": run, "match": mine == found_full, "mine": len(mine)}

    print(
        f"\nnightly homework checks, {NIGHT}, {len(RULES)} rules, chunks of "
        f"{settings.PORTAL_CHECK_CHUNK_SIZE} classes (times: median of {args.rounds} rounds "
        "for set-based, one run for naive)"
    )
    header = (
        f"{'size':>6}{'classes':>9}{'items':>10}{'night':>8}{'set-based s':>13}"
        f"{'naive s':>10}{'ratio':>8}{'findings':>10}  same findings"
    )
    print(header)
    for r in rows:
        naive_txt = f"{r['naive']:.1f}" + ("" if r["naive_measured"] else "*")
        same = {True: "yes", False: "NO", None: "-"}[r["same"]]
        print(
            f"{r['fraction']:>6g}{r['classes']:>9}{r['items']:>10}{r['night_items']:>8}"
            f"{r['set']:>13.2f}{naive_txt:>10}{r['naive'] / r['set']:>7.0f}x{r['findings']:>10}"
            f"  {same}"
        )
    print(
        "(a fraction is the first classes by primary key, in the engine's chunks; the tables "
        "stay full size)"
    )
    last = rows[-1]
    print(
        f"findings at {last['fraction']:g} by rule: "
        + ", ".join(f"{code.rsplit('.', 1)[-1]} {k}" for code, k in last["by_rule"].items())
    )
    print(
        f"naive per class: {1000 * last['naive'] / last['classes']:.2f} ms; set-based per "
        f"chunk and rule: {1000 * last['set'] / (last['chunks'] * len(RULES)):.1f} ms"
    )
    if "naive_plain" in first:
        print(
            f"naive at {first['fraction']:g} with .order_by() (no Meta.ordering joins): "
            f"{first['naive_plain']:.1f} s, {first['naive_plain'] / first['set']:.0f}x the "
            f"set-based time (as measured above: {first['naive']:.1f} s)"
        )
    if any(not r["naive_measured"] for r in rows):
        print(
            "* naive extrapolated linearly from the largest measured size (it would take "
            f"more than {NAIVE_MEASURE_LIMIT} s)"
        )
    for r in rows:
        if r["same"] is not None:
            print(f"same findings at {r['fraction']:g}: {'yes' if r['same'] else 'NO'}")
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        size = b["classes"] / a["classes"]
        print(
            f"growth {a['fraction']:g} -> {b['fraction']:g} ({size:.0f}x the classes): "
            f"set-based {b['set'] / a['set']:.1f}x the time, naive "
            f"{b['naive'] / a['naive']:.1f}x{'' if b['naive_measured'] else ' (extrapolated)'}"
        )
    ok = all(r["same"] is not False for r in rows)
    if engine is not None:
        run = engine["run"]
        print(
            f"engine run_checks (full size, writes the findings): {engine['time']:.2f} s, "
            f"status {run.status}, {run.chunks_total} chunks, findings seen "
            f"{run.findings_seen} (new {run.findings_new}, resolved {run.findings_resolved})"
        )
        print(f"engine findings = set-based findings: {'yes' if engine['match'] else 'NO'}")
        ok = ok and engine["match"] and run.status == run.Status.SUCCEEDED
    full = rows[-1]
    if full["fraction"] == 1:
        ratio = full["naive"] / full["set"]
        print(
            f"target >= 50x (set-based vs naive, full size): {ratio:.0f}x "
            f"{'met' if ratio >= 50 else 'NOT met'}"
        )
        slowest = max(full["set"], engine["time"] if engine else 0)
        print(
            f"target < 60 s (full size, engine run incl. findings): {slowest:.1f} s "
            f"{'met' if slowest < 60 else 'NOT met'}"
        )
        table_row(
            "homework checks vs naive loop",
            f"{full['set']:.3f} s set-based, engine run {engine['time'] if engine else 0:.1f} s "
            f"({full['classes']} classes)",
            baseline=f"{full['naive']:.1f} s naive"
            + ("" if full["naive_measured"] else " (extrapolated)"),
            ratio=ratio,
            target=">= 50x, < 60 s",
            verdict="met" if ratio >= 50 and slowest < 60 else "missed",
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
