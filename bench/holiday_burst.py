"""Holiday care under a burst: 10,000 parents for 1,500 places across 20 host sites × 6 weeks,
through the real web stack, with /ping measured in the same run.

    .venv/bin/python bench/holiday_burst.py [--parents 10000] [--places 1500] [--sites 20]
                                            [--weeks 6] [--fee 200] [--workers 2]
                                            [--concurrency 64] [--rounds 1] [--small]
                                            [--reduced]

``--small`` is the reduced scale (1,000 parents, 150 places, 5 sites × 3 weeks) for a shared
machine, ``--reduced`` (what `make bench` runs) the same in one round; both on a data set of
their own (district HOLBURSTR, schools HOLBURSTR00..., users holburstr_p...), so that the full
one is kept. The table row (bench/_common.table_row) "holiday burst": enrolments/s and p99, /ping's
throughput measured in the same run and the ratio (no target of its own: issue 20's target is
the term-time burst's, bench/afterschool_burst.py). Uses DATABASE_URL's server with a
separate database, <name>_bench (bench/_common.py).
It creates once and keeps: a district (code HOLBURST), --sites primary schools (each a host
school, its summer plan in effect) with one grade-3 class, the parents (holburst_p00000...,
unusable passwords) each with one child in one of the schools, next year's summer vacation
(active), and the host sites designated and opened through afterschool.holiday (every site
serves every school of the district; capacity per site so that the blocks hold --places
places in all, the remainder spread over the first sites). Each parent asks for ONE week
block, chosen at random (seeded), with a POST /holiday/enrol/ — all together from
--concurrency threads released by a barrier — then the same number of GET /ping.

Checks, from the database and the answers: every request a 302 to /holiday/; no 5xx; per
site and week exactly its capacity enrolled (or every request when fewer asked) and the rest
waiting; each child exactly one live enrolment; one audit row per enrolment; one bill per
enrolled place of the week's fee and none for a waiting place. Any failed check makes the
exit status 1. The parents' sessions are made without the password hasher (as in
bench/afterschool_burst.py, whose client, sampler and clean-up this reuses).
"""

import argparse
import datetime as dt
import random
import signal
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import afterschool_burst as base  # noqa: E402
from _common import Gunicorn, setup_bench_database, table_row  # noqa: E402

SEED = 20261202
DISTRICT = ("HOLBURST", "假期托管压测区")
USER_PREFIX = "holburst_p"
ADMIN = "holburst_bureau"
SCHOOL_CODE, SCHOOL_NAME = "HOLBURST{:02d}", "假期托管压测{:02d}小学"
# --reduced: a data set of its own, so that the full one is kept for `make bench FULL=1`
REDUCED = {"district": ("HOLBURSTR", "假期托管压测区（缩减）"), "user_prefix": "holburstr_p",
           "admin": "holburstr_bureau", "school_code": "HOLBURSTR{:02d}",
           "school_name": "假期托管缩减压测{:02d}小学"}  # fmt: skip


def _world(args):
    """Schools, plans, the vacation, parents and children (bulk, kept between runs), then the
    host sites designated and opened through the services when missing. Returns
    (blocks: [(offering, site name, capacity)], family: [(user, child_id)])."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from afterschool import holiday
    from afterschool.holiday_models import HostSite
    from afterschool.models import PlanItem, SchoolPlan
    from portal.models import (
        CalendarYear,
        Child,
        District,
        Parent,
        School,
        SchoolClass,
        SchoolPeriod,
    )

    User = get_user_model()
    year = timezone.localdate().year + 1
    start = dt.date(year, 7, 1)
    if getattr(args, "small", False):  # --small and --reduced: the small data set
        names_of = REDUCED
    else:
        names_of = {"district": DISTRICT, "user_prefix": USER_PREFIX, "admin": ADMIN,
                    "school_code": SCHOOL_CODE, "school_name": SCHOOL_NAME}  # fmt: skip
    with transaction.atomic():
        CalendarYear.objects.get_or_create(year=year, defaults={"source": "staff"})
        district, _ = District.objects.get_or_create(
            code=names_of["district"][0], defaults={"name": names_of["district"][1]}
        )
        vacation, _ = SchoolPeriod.objects.update_or_create(
            district=district, kind=SchoolPeriod.Kind.SUMMER, name=f"{year}暑假",
            defaults={"start": start, "end": dt.date(year, 8, 31), "status": "active"},
        )  # fmt: skip
        schools, classes = [], []
        for i in range(args.sites):
            school, _ = School.objects.get_or_create(
                code=names_of["school_code"].format(i),
                defaults={"name": names_of["school_name"].format(i),
                          "stage": School.Stage.PRIMARY, "district": district},
            )  # fmt: skip
            schools.append(school)
            classes.append(SchoolClass.objects.get_or_create(school=school, grade=3, number=1)[0])
            plan, _ = SchoolPlan.objects.update_or_create(
                school=school, term=vacation,
                defaults={"weekdays": [0, 1, 2, 3, 4], "start_time": dt.time(8, 30),
                          "end_time": dt.time(11, 30), "items": "看护、阅读",
                          "status": SchoolPlan.Status.IN_EFFECT},
            )  # fmt: skip
            PlanItem.objects.get_or_create(
                plan=plan, name="看护", defaults={"activity": PlanItem.Activity.CARE}
            )
        admin, _ = User.objects.get_or_create(
            username=names_of["admin"],
            defaults={"password": make_password(None), "is_staff": True, "is_superuser": True},
        )
        names = [f"{names_of['user_prefix']}{i:05d}" for i in range(args.parents)]
        have = set(User.objects.filter(username__in=names).values_list("username", flat=True))
        User.objects.bulk_create(
            [User(username=n, password=make_password(None)) for n in names if n not in have],
            batch_size=1000,
        )
        users = {u.username: u for u in User.objects.filter(username__in=names)}
        with_parent = set(
            Parent.objects.filter(user__in=users.values()).values_list("user_id", flat=True)
        )
        Parent.objects.bulk_create(
            [Parent(user=users[n], name=f"压测家长{i}", phone=f"138{i:08d}")
             for i, n in enumerate(names) if users[n].pk not in with_parent],
            batch_size=1000,
        )  # fmt: skip
        parents = {p.user_id: p for p in Parent.objects.filter(user__in=users.values())}
        link = Child.parents.through
        child_of = dict(
            link.objects.filter(parent__in=parents.values(), child__school__district=district)
            .order_by("parent_id", "child_id")
            .distinct("parent_id")
            .values_list("parent_id", "child_id")
        )
        missing = [(i, parents[users[n].pk]) for i, n in enumerate(names)
                   if parents[users[n].pk].pk not in child_of]  # fmt: skip
        children = Child.objects.bulk_create(
            [Child(name=f"压测学生{i:05d}", school=schools[i % len(schools)],
                   school_class=classes[i % len(classes)]) for i, _ in missing],
            batch_size=1000,
        )  # fmt: skip
        pairs = [(p.pk, c.pk) for (_, p), c in zip(missing, children, strict=True)]
        link.objects.bulk_create([link(parent_id=p, child_id=c) for p, c in pairs], batch_size=1000)
        child_of.update(pairs)
    first_monday = start + dt.timedelta(days=(7 - start.weekday()) % 7)
    weeks = [first_monday + dt.timedelta(weeks=k) for k in range(args.weeks)]
    per_site, extra = divmod(args.places, args.sites * args.weeks)
    blocks = []
    for i, school in enumerate(schools):
        # the remainder: one more place a week at the first sites (extra // weeks of them),
        # and the last few places at the next site in its first weeks
        capacity = per_site + (1 if i < extra // args.weeks else 0)
        host = HostSite.objects.filter(vacation=vacation, site__school=school).first()
        if host is None:
            host = holiday.host_designate(
                actor=admin, vacation_id=vacation.pk, school_id=school.pk,
                served_school_ids=[s.pk for s in schools], weeks=weeks, capacity=capacity,
                fee_per_week=Decimal(args.fee), morning_start=dt.time(8, 30),
                morning_end=dt.time(11, 30),
            )  # fmt: skip
            host = holiday.host_open(actor=admin, host_id=host.pk)
        for b in host.blocks.select_related("offering").order_by("week"):
            blocks.append((b.offering, host.site.name))
    family = [(users[n], child_of[parents[users[n].pk].pk]) for n in names]
    return blocks, family


def _reset(blocks) -> int:
    from django.db import connection, transaction

    from afterschool.models import Enrolment

    with transaction.atomic(), connection.cursor() as cur:
        pks = list(
            Enrolment.objects.filter(offering__in=[o for o, _n in blocks]).values_list(
                "pk", flat=True
            )
        )
        removed = base._purge(cur, Enrolment, pks)
    base.vacuum_purged()  # the dead rows of the reset, not walked by the next round
    return removed


def _verify(blocks, family, chosen, results, fee):
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Count, Q

    from afterschool.models import Bill, Enrolment
    from portal.models import AuditLog

    n = len(family)
    checks = []
    statuses = {}
    for r in results:
        statuses[r[0]] = statuses.get(r[0], 0) + 1
    back = sum(1 for r in results if r[0] == 302 and (r[4] or "").split("?")[0] == "/holiday/")
    checks.append((f"every request a 302 to /holiday/: {back}/{n} "
                   f"(statuses {dict(sorted(statuses.items()))})", back == n))  # fmt: skip
    asked = {}
    for offering_id in chosen:
        asked[offering_id] = asked.get(offering_id, 0) + 1
    counts = {
        r["offering_id"]: r
        for r in Enrolment.objects.filter(offering__in=[o for o, _n in blocks])
        .values("offering_id")
        .annotate(
            enrolled=Count("pk", filter=Q(status="enrolled")),
            waiting=Count("pk", filter=Q(status="waiting")),
        )
    }
    wrong = []
    for offering, name in blocks:
        c = counts.get(offering.pk, {"enrolled": 0, "waiting": 0})
        want = min(offering.capacity, asked.get(offering.pk, 0))
        if c["enrolled"] != want or c["waiting"] != asked.get(offering.pk, 0) - want:
            wrong.append(f"{name} {offering.starts_on}: {c} (capacity {offering.capacity})")
    taken = sum(c["enrolled"] for c in counts.values())
    offered = sum(o.capacity for o, _n in blocks)
    checks.append((f"exactly the capacity taken per site and week ({taken}/{offered} places; "
                   f"{len(wrong)} blocks wrong{': ' + wrong[0] if wrong else ''})",
                   not wrong))  # fmt: skip
    live = dict(
        Enrolment.objects.filter(offering__in=[o for o, _n in blocks])
        .exclude(status="withdrawn")
        .values_list("child_id")
        .annotate(k=Count("id"))
    )
    children = {c for _u, c in family}
    checks.append((f"each child exactly one live enrolment (missing {len(children - set(live))})",
                   set(live) == children and all(k == 1 for k in live.values())))  # fmt: skip
    rows = list(
        Enrolment.objects.filter(offering__in=[o for o, _n in blocks]).values_list("pk", flat=True)
    )
    audited = AuditLog.objects.filter(
        content_type=ContentType.objects.get_for_model(Enrolment),
        object_id__in=[str(pk) for pk in rows],
        action__in=["afterschool.enrolment.enrolled", "afterschool.enrolment.waiting"],
    ).count()
    checks.append((f"one audit row per enrolment: {audited}/{len(rows)}", audited == len(rows)))
    if Decimal(fee) > 0:
        bills = Bill.objects.filter(enrolment__offering__in=[o for o, _n in blocks])
        billed = bills.count()
        wrong_amount = bills.exclude(gross=Decimal(fee)).count()
        checks.append(
            (
                f"one bill per place taken, of the week's fee: {billed}/{taken}, "
                f"{wrong_amount} of another amount",
                billed == taken and not wrong_amount,
            )
        )
    return checks  # fmt: skip


def _round(number, server, blocks, family, cookies, args):
    from django.conf import settings
    from django.db import connection

    removed = _reset(blocks)
    connection.close()
    rng = random.Random(SEED + number)
    order = list(range(len(family)))
    rng.shuffle(order)
    chosen, jobs = [], []
    for i in order:
        offering = rng.choice(blocks)[0]
        chosen.append(offering.pk)
        session_key, csrf = cookies[i]
        body = urlencode(
            {"csrfmiddlewaretoken": csrf, "child": family[i][1], "offering": offering.pk}
        )
        jobs.append(("POST", "/holiday/enrol/", {
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}; "
                      f"{settings.CSRF_COOKIE_NAME}={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": server.url,
        }, body))  # fmt: skip
    log_at = server.log_size()
    sampler = base.LockSampler()
    sampler.start()
    try:
        results, elapsed = base._fire(server.port, jobs, args.concurrency)
    finally:
        sampler.stop()
    burst = base._figures(results, elapsed)
    pings, ping_elapsed = base._fire(server.port, [("GET", "/ping", {}, None)] * len(jobs),
                                     args.concurrency)  # fmt: skip
    ping = base._figures(pings, ping_elapsed)
    ping_bad = sum(1 for r in pings if r[0] != 200)
    print(
        f"\nround {number}: {len(jobs)} parents over {len(blocks)} week blocks, "
        f"{args.concurrency} threads, {removed} rows deleted first; {base._load_note()}"
    )
    print(f"{'':24}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'s':>7}")
    for title, f in [("POST /holiday/enrol/", burst), ("GET /ping", ping)]:
        print(
            f"{title:24}{f['rps']:9.1f}{f['p50']:9.1f}{f['p95']:9.1f}{f['p99']:9.1f}"
            f"{f['max']:9.1f}{f['elapsed']:7.2f}"
        )
    print(f"burst / ping throughput {burst['rps'] / ping['rps']:.3f}; ping non-200: {ping_bad}")
    print(f"  {sampler.summary()}")
    problems = server.problems_since(log_at)
    print(
        f"  server log: {len(problems)} error lines"
        + "".join(f"\n    {line[:160]}" for line in problems[:5])
    )
    checks = _verify(blocks, family, chosen, results, args.fee)
    for verdict, ok in checks:
        print(f"  {'ok  ' if ok else 'FAIL'} {verdict}")
    connection.close()
    return all(ok for _v, ok in checks) and ping_bad == 0, burst, ping  # fmt: skip


def _table_row(figures):
    """The row of `make bench`'s table (the median of the rounds); no target of its own."""
    median = statistics.median
    rps = median(b["rps"] for b, _p in figures)
    p99 = median(b["p99"] for b, _p in figures)
    ping = median(p["rps"] for _b, p in figures)
    rounds = f" (median of {len(figures)} rounds)" if len(figures) > 1 else ""
    table_row(
        "holiday burst",
        f"{rps:.1f}/s, p99 {p99:.0f} ms{rounds}",
        baseline=f"/ping {ping:.0f} req/s",
        ratio=median(b["rps"] / p["rps"] for b, p in figures),
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--parents", type=int, default=10000)
    parser.add_argument("--places", type=int, default=1500)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--weeks", type=int, default=6)
    parser.add_argument("--fee", default="200", help="yuan a week")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--concurrency", type=int, default=64, help="client threads")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--small", action="store_true", help="1,000 parents, 150 places, 5×3")
    parser.add_argument(
        "--reduced",
        action="store_true",
        help="make bench's scale: --small's, 1 round, a data set of its own",
    )
    args = parser.parse_args()
    if args.reduced:
        args.small, args.rounds = True, 1
    if args.small:
        args.parents, args.places, args.sites, args.weeks = 1000, 150, 5, 3
    if args.places < args.sites * args.weeks:
        parser.error("--places must give each site and week at least one place")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    services = setup_bench_database()
    keys = []
    try:
        from django.db import connection

        t0 = time.perf_counter()
        blocks, family = _world(args)
        print(f"{len(blocks)} week blocks ({sum(o.capacity for o, _n in blocks)} places, "
              f"{args.fee} yuan a week), {len(family)} parents in "
              f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
        cookies = base._sessions(family)
        keys = [k for k, _csrf in cookies]
        connection.close()
        oks, figures = [], []
        with tempfile.TemporaryDirectory(prefix="holiday-burst-") as folder:
            server = Gunicorn(args.workers, Path(folder) / "gunicorn.log")
            try:
                server.start()
                print(f"gunicorn --workers {args.workers} on {server.url}")
                warm, _e = base._fire(server.port, [("GET", "/ping", {}, None)] * 40, 8)
                if any(r[0] != 200 for r in warm):
                    raise RuntimeError("warm-up /ping did not answer 200")
                for number in range(1, args.rounds + 1):
                    ok, burst, ping = _round(number, server, blocks, family, cookies, args)
                    oks.append(ok)
                    figures.append((burst, ping))
            finally:
                server.stop()
        if figures:
            _table_row(figures)
        print("all checks " + ("passed" if all(oks) else f"FAILED in {oks.count(False)} round(s)"))
        return 0 if all(oks) else 1
    finally:
        if keys:
            try:
                base._drop_sessions(keys)
            except Exception as exc:  # the bench database only; report and go on
                print(f"could not delete the benchmark's sessions: {exc}")
        services.stop()


if __name__ == "__main__":
    sys.exit(main())
