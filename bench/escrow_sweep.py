"""The nightly auto-confirmation of 消课 claims and its releases, at district scale.

    .venv/bin/python bench/escrow_sweep.py [--scale 1] [--sample 400] [--chunk 2000]
                                           [--reduced]

Uses DATABASE_URL's server (or the embedded one) with a database of its own,
<name>_bench_escrow (the sweep changes the data, so it is reset before every run; other
benchmarks' <name>_bench is left alone). Filled once with set-based SQL (INSERT ... SELECT
FROM generate_series, cloning one template row of each model made through the services so
that every column is what the code writes), then kept:

  10,000 institutions with an escrow account and a course each, 200,000 paid purchases
  (20 per institution; 10 or 20 lessons; 60 % 一课一销, 25 % tranches, 15 % delay with no
  delay days; one purchase in 50 under an open dispute), each with its purchase posting and,
  under 一课一销, the release of its first 4 confirmed lessons; 2,000,000 claims (10 per
  purchase): 4 confirmed, 4 (or 6 when the purchase has 10 lessons, which then completes)
  unanswered for more than PORTAL_CLAIM_CONFIRM_DAYS days, 2 made yesterday.

Each run resets the claims, purchases and releases to that state (the auto-confirmed
claims back to 待确认, the night's releases deleted: as a superuser, the ledger's triggers
skipped for that), then:
  1. the naive baseline: a per-purchase loop (lock the purchase, save each due claim,
     escrow.lessons_confirm, which audits and releases) on --sample purchases spread over
     the candidates, timed and extrapolated to all of them (stated as such);
  2. the sweep, institutions.claims.auto_confirm_due, over the rest, timed;
  3. the checks: the ledger balanced (no unbalanced transaction, entries summing to zero),
     each purchase's released == escrow.release_due (the disputed ones: unchanged), each
     purchase's confirmed lessons == the lessons of its confirmed claims and exactly the due
     claims auto-confirmed (none twice), at most one release per purchase this night, and a
     second sweep finding nothing. A failed check exits with status 1.
Target (issue 16): the sweep under 60 s at scale 1. --scale 0.05 runs a 1/20 district.
--reduced (what `make bench` runs) is --scale 0.05 --sample 100 (its own district, ESW500:
the full ESW10000 is left alone; about 1 minute with the fill). The summary row
(bench/_common.table_row): the sweep's seconds against the naive loop's (extrapolated), the
ratio, and the verdict at scale 1 only (below it the row gives the linear estimate for
200,000 purchases and no verdict).
"""

import argparse
import datetime as dt
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from _common import table_row

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NIGHT = dt.date(2026, 6, 15)
START = dt.date(2026, 3, 2)
END = dt.date(2026, 5, 29)
PER_INSTITUTION = 20
CLAIMS_PER_PURCHASE = 10
CONFIRMED_BEFORE = 4
TARGET_S = 60
REDUCED = {"scale": 0.05, "sample": 100}


def setup_database():
    """As bench/_common.setup_bench_database, with a database of this benchmark's own."""
    from portal.embedded import Services, ensure_database, with_database

    services = Services()
    os.environ.update(services.start())
    url = os.environ["DATABASE_URL"]
    name = (urlsplit(url).path.lstrip("/") or "portal") + "_bench_escrow"
    ensure_database(with_database(url, "postgres"), name)
    os.environ["DATABASE_URL"] = with_database(url, name)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return services


def _step(label, t0):
    print(f"  {label} ({time.perf_counter() - t0:.1f} s)", flush=True)


def _columns(model, overrides: dict[str, str]) -> tuple[str, str]:
    """(column list, select list) cloning the template row ``t`` of ``model``, with
    ``overrides`` {column: SQL expression} and the primary key left to its sequence."""
    cols, exprs = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        cols.append(f'"{f.column}"')
        exprs.append(overrides.get(f.column, f't."{f.column}"'))
    unknown = set(overrides) - {f.column for f in model._meta.concrete_fields}
    if unknown:
        raise SystemExit(f"unknown columns of {model.__name__}: {unknown}")
    return ", ".join(cols), ", ".join(exprs)


def _clone(cursor, model, template_pk: int, source: str, overrides: dict[str, str], params=None):
    cols, exprs = _columns(model, overrides)
    table = model._meta.db_table
    cursor.execute(
        f"INSERT INTO {table} ({cols}) SELECT {exprs} FROM {table} t CROSS JOIN {source} "
        f"WHERE t.id = {int(template_pk)}",
        params or {},
    )
    return cursor.rowcount


def marker(institutions: int) -> str:
    return f"ESW{institutions}"[:12]


def fill(institutions: int):
    """The data set, once (one transaction: there whole or not at all)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection, transaction

    from institutions import escrow
    from institutions.claim_models import LessonClaim
    from institutions.escrow_models import EscrowTransaction, Purchase
    from institutions.models import Course, Institution, SupervisedAccount
    from portal.models import District

    code = marker(institutions)
    if District.objects.filter(code=code).exists():
        return District.objects.get(code=code)
    print(f"filling {code}: {institutions:,} institutions, "
          f"{institutions * PER_INSTITUTION:,} purchases, "
          f"{institutions * PER_INSTITUTION * CLAIMS_PER_PURCHASE:,} claims",
          flush=True)  # fmt: skip
    t0 = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            try:  # skip the per-row triggers while loading (superuser only); checked later
                with transaction.atomic():
                    cursor.execute("SET LOCAL session_replication_role = replica")
            except Exception:  # noqa: BLE001 - then the triggers run, the load is slower
                print("  (not a superuser: loading with the ledger's triggers on)")
        district = District.objects.create(code=code, name=f"消课基准区{code}")
        staff = get_user_model().objects.create(username=f"esw_staff_{code}", is_staff=True)
        staff.groups.add(Group.objects.get(name="校外培训"))
        tpl = Institution.objects.create(
            name=f"{code}模板机构", credit_code=f"{code}T".ljust(18, "0"), category="non_subject",
            mode="offline", nature="non_profit", district=district, scale=100,
            licence_number="教民0001号", licence_issued=dt.date(2024, 1, 1),
            licence_expires=dt.date(2029, 12, 31),
        )  # fmt: skip
        acc = SupervisedAccount.objects.create(
            institution=tpl, kind="escrow", bank="工商银行", account_name="模板",
            account_number="6222020200112233",
        )  # fmt: skip
        course = Course.objects.create(
            institution=tpl, name="少儿美术", subject="文化艺术", mode="offline",
            lesson_minutes=45, class_size=10, price_per_lesson=Decimal("35.00"),
            term_start=START, term_end=END,
        )  # fmt: skip
        purchase = escrow.purchase_record(
            actor=staff, course_id=course.pk, parent_name="张三", parent_phone="13812345678",
            lessons=10, amount=Decimal("973.30"), starts_on=START, ends_on=END,
            idempotency_key=f"{code}-TEMPLATE",
        )  # fmt: skip
        tx = EscrowTransaction.objects.get(purchase=purchase)
        _step("templates", t0)
        with connection.cursor() as cursor:
            n = _clone(cursor, Institution, tpl.pk, "generate_series(1, %(n)s) g", {
                "name": f"'{code}机构' || g",
                "credit_code": f"'{code}' || lpad(g::text, 18 - {len(code)}, '0')",
            }, {"n": institutions})  # fmt: skip
            _step(f"{n:,} institutions", t0)
            inst_source = (
                f"(SELECT i.id FROM institutions_institution i WHERE i.district_id = {district.pk}"
                f" AND i.id <> {tpl.pk}) i"
            )
            _clone(cursor, SupervisedAccount, acc.pk, inst_source, {"institution_id": "i.id"})
            _clone(cursor, Course, course.pk, inst_source, {"institution_id": "i.id"})
            _step("accounts and courses", t0)
            src = (
                "(SELECT c.id AS course_id, c.institution_id, g, c.id * 100 + g AS n "
                "FROM institutions_course c CROSS JOIN generate_series(1, %(per)s) g "
                f"WHERE c.institution_id IN (SELECT id FROM institutions_institution "
                f"WHERE district_id = {district.pk} AND id <> {tpl.pk})) s"
            )
            lessons = "(CASE WHEN mod(s.n, 3) = 0 THEN 10 ELSE 20 END)"
            n = _clone(cursor, Purchase, purchase.pk, src, {
                "institution_id": "s.institution_id", "course_id": "s.course_id",
                "lessons": lessons, "amount": f"{lessons} * 97.33",
                "idempotency_key": f"'{code}-' || s.n",
                "lessons_consumed": str(CLAIMS_PER_PURCHASE),
                "lessons_confirmed": str(CONFIRMED_BEFORE), "completed_on": "NULL",
                "release_kind": "(CASE WHEN mod(s.n, 20) < 12 THEN 'per_lesson' "
                                "WHEN mod(s.n, 20) < 17 THEN 'tranches' ELSE 'delay' END)",
                "delay_days": "0", "dispute_open": "(mod(s.n, 50) = 0)",
                "dispute_reason": "(CASE WHEN mod(s.n, 50) = 0 THEN '基准：争议中' ELSE '' END)",
                "created_at": "now()", "updated_at": "now()",
            }, {"per": PER_INSTITUTION})  # fmt: skip
            _step(f"{n:,} purchases", t0)
            of_district = (
                f"p.institution_id IN (SELECT id FROM institutions_institution "
                f"WHERE district_id = {district.pk} AND id <> {tpl.pk})"
            )
            purchases_src = f"(SELECT p.* FROM institutions_purchase p WHERE {of_district}) p"
            per_lesson_src = (
                f"(SELECT p.* FROM institutions_purchase p WHERE {of_district} "
                "AND p.release_kind = 'per_lesson') p"
            )
            _clone(cursor, EscrowTransaction, tx.pk, purchases_src, {
                "idempotency_key": "p.idempotency_key", "institution_id": "p.institution_id",
                "purchase_id": "p.id", "created_at": "now() - interval '100 days'",
            })  # fmt: skip
            cursor.execute(f"""
                INSERT INTO institutions_escrowentry (transaction_id, account, amount)
                SELECT t.id, x.account, x.amount
                FROM institutions_escrowtransaction t
                JOIN institutions_purchase p ON p.id = t.purchase_id
                CROSS JOIN LATERAL (VALUES ('escrow:inst:' || p.institution_id, p.amount),
                                          ('parent_prepaid:purchase:' || p.id, -p.amount))
                     AS x(account, amount)
                WHERE t.kind = 'purchase' AND p.institution_id IN (SELECT id FROM
                      institutions_institution WHERE district_id = {district.pk} AND id <> {tpl.pk})
            """)  # fmt: skip
            _step("purchase postings", t0)
            # the release of the 4 lessons confirmed before, under 一课一销
            _clone(cursor, EscrowTransaction, tx.pk, per_lesson_src, {
                "kind": "'release'", "idempotency_key": "NULL", "memo": "'按一课一销释放'",
                "institution_id": "p.institution_id", "purchase_id": "p.id",
                "created_at": "now() - interval '50 days'",
            })  # fmt: skip
            cursor.execute(f"""
                INSERT INTO institutions_escrowentry (transaction_id, account, amount)
                SELECT t.id, x.account, x.amount
                FROM institutions_escrowtransaction t
                JOIN institutions_purchase p ON p.id = t.purchase_id
                CROSS JOIN LATERAL
                     (SELECT ROUND(p.amount * {CONFIRMED_BEFORE} / p.lessons, 2) AS v) v
                CROSS JOIN LATERAL (VALUES ('parent_prepaid:purchase:' || p.id, v.v),
                                          ('escrow:inst:' || p.institution_id, -v.v))
                     AS x(account, amount)
                WHERE t.kind = 'release' AND p.institution_id IN (SELECT id FROM
                      institutions_institution WHERE district_id = {district.pk} AND id <> {tpl.pk})
            """)  # fmt: skip
            _step("earlier releases", t0)
            # the claims, 10 per purchase (j = 1..10): 1-4 confirmed a month ago, then the due
            # ones claimed 9 to 4 days before the night, the last 2 of a 20-lesson purchase
            # yesterday (not due yet)
            cursor.execute(f"""
                INSERT INTO {LessonClaim._meta.db_table}
                    (purchase_id, date, start, "end", lessons, claimed_by_id, claimed_at, status,
                     answered_at, answered_by_id, dispute_reason)
                SELECT p.id, DATE '{START}' + j * 3, TIME '18:00', TIME '18:45', 1, NULL,
                       CASE WHEN j <= {CONFIRMED_BEFORE} THEN night - interval '30 days'
                            WHEN j <= 8 OR p.lessons = 10 THEN night - (14 - j) * interval '1 day'
                            ELSE night - interval '1 day' END,
                       CASE WHEN j <= {CONFIRMED_BEFORE} THEN 'confirmed' ELSE 'pending' END,
                       CASE WHEN j <= {CONFIRMED_BEFORE} THEN night - interval '29 days' END,
                       NULL, ''
                FROM institutions_purchase p
                CROSS JOIN generate_series(1, {CLAIMS_PER_PURCHASE}) j
                CROSS JOIN (SELECT TIMESTAMPTZ '{NIGHT} 12:00+08' AS night) n
                WHERE p.institution_id IN (SELECT id FROM institutions_institution
                      WHERE district_id = {district.pk} AND id <> {tpl.pk})
            """)  # fmt: skip
            _step(f"{cursor.rowcount:,} claims", t0)
    return district


def bench_purchases(district):
    from institutions.escrow_models import Purchase

    return Purchase.objects.filter(institution__district=district).exclude(
        idempotency_key__endswith="-TEMPLATE"
    )


RESET_SQL = """
-- the releases of earlier runs (after the load's), their entries first (append-only: the
-- triggers are skipped under session_replication_role = replica)
DELETE FROM institutions_escrowentry e USING institutions_escrowtransaction t
 WHERE e.transaction_id = t.id AND t.kind = 'release' AND t.created_at > now() - interval '40 days'
   AND t.institution_id IN (SELECT id FROM institutions_institution WHERE district_id = %(d)s);
DELETE FROM institutions_escrowtransaction t
 WHERE t.kind = 'release' AND t.created_at > now() - interval '40 days'
   AND t.institution_id IN (SELECT id FROM institutions_institution WHERE district_id = %(d)s);
UPDATE institutions_purchase p SET lessons_confirmed = %(before)s, completed_on = NULL
 WHERE p.institution_id IN (SELECT id FROM institutions_institution WHERE district_id = %(d)s)
   AND p.idempotency_key NOT LIKE '%%-TEMPLATE'
   AND (p.lessons_confirmed <> %(before)s OR p.completed_on IS NOT NULL);
UPDATE institutions_lessonclaim c SET status = 'pending', answered_at = NULL
 WHERE c.status = 'auto' AND c.purchase_id IN (SELECT p.id FROM institutions_purchase p
       WHERE p.institution_id IN (SELECT id FROM institutions_institution
                                  WHERE district_id = %(d)s));
"""


def reset(district):
    from django.db import connection, transaction

    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        try:
            with transaction.atomic():
                cursor.execute("SET LOCAL session_replication_role = replica")
        except Exception:  # noqa: BLE001
            raise SystemExit(
                "the reset deletes ledger rows of earlier runs: run as a superuser"
            ) from None
        cursor.execute(RESET_SQL, {"d": district.pk, "before": CONFIRMED_BEFORE})
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE institutions_lessonclaim")
        cursor.execute("VACUUM ANALYZE institutions_purchase")
        cursor.execute("ANALYZE institutions_escrowentry")
        cursor.execute("ANALYZE institutions_escrowtransaction")
    _step("reset to the night's state", t0)


def naive(purchase_ids, night) -> float:
    """The obvious per-purchase loop, as a view would do it for each purchase."""
    from django.db import transaction
    from django.utils import timezone

    from institutions import claims, escrow
    from institutions.claim_models import LessonClaim
    from institutions.escrow_models import Purchase
    from portal.locks import locked

    cutoff = claims._cutoff(night)
    t0 = time.perf_counter()
    for pid in purchase_ids:
        with transaction.atomic():
            p = locked(Purchase.objects.filter(pk=pid)).get()
            due = list(
                LessonClaim.objects.filter(purchase_id=pid, status="pending", claimed_at__lt=cutoff)
            )
            for c in due:
                c.status = LessonClaim.Status.AUTO_CONFIRMED
                c.answered_at = timezone.now()
                c.save(update_fields=["status", "answered_at"])
            total = min(p.lessons_confirmed + sum(c.lessons for c in due), p.lessons_consumed)
            escrow.lessons_confirm(actor="system", purchase_id=pid, total=total, today=night)
    return time.perf_counter() - t0


def checks(district, night, started) -> list[str]:
    from django.db import connection
    from django.db.models import Count, Q, Sum

    from institutions import escrow
    from institutions.claim_models import LessonClaim

    problems = []
    S = LessonClaim.Status
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT count(*) FROM (
              SELECT t.id FROM institutions_escrowtransaction t
              LEFT JOIN institutions_escrowentry e ON e.transaction_id = t.id
              WHERE t.institution_id IN (SELECT id FROM institutions_institution
                                         WHERE district_id = %s)
              GROUP BY t.id HAVING count(e.id) = 0 OR sum(e.amount) <> 0) x
        """, [district.pk])  # fmt: skip
        unbalanced = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(sum(amount), 0) FROM institutions_escrowentry")
        total = cursor.fetchone()[0]
        cursor.execute("""
            SELECT t.purchase_id, sum(e.amount),
                   count(DISTINCT t.id) FILTER (WHERE t.created_at >= %s)
            FROM institutions_escrowtransaction t
            JOIN institutions_escrowentry e ON e.transaction_id = t.id
            WHERE t.kind = 'release' AND e.account LIKE 'parent_prepaid:%%'
              AND t.institution_id IN (SELECT id FROM institutions_institution
                                       WHERE district_id = %s)
            GROUP BY 1
        """, [started, district.pk])  # fmt: skip
        released = {pid: (amount, n) for pid, amount, n in cursor.fetchall()}
    if unbalanced:
        problems.append(f"{unbalanced} unbalanced ledger transactions")
    if total != 0:
        problems.append(f"the ledger's entries sum to {total}, not 0")
    counted = dict(
        LessonClaim.objects.filter(purchase__institution__district=district,
                                   status__in=[S.CONFIRMED, S.AUTO_CONFIRMED])
        .values_list("purchase_id").annotate(n=Sum("lessons"))
    )  # fmt: skip
    autos = dict(
        LessonClaim.objects.filter(purchase__institution__district=district)
        .values_list("purchase_id").annotate(n=Count("pk", filter=Q(status=S.AUTO_CONFIRMED)))
    )  # fmt: skip
    wrong_release = wrong_count = twice = 0
    example = ""
    for p in bench_purchases(district).iterator(chunk_size=5000):
        got, n_tonight = released.get(p.pk, (Decimal("0.00"), 0))
        if p.dispute_open:
            want = p.value_of(CONFIRMED_BEFORE) if p.release_kind == "per_lesson" else Decimal("0")
        else:
            want = escrow.release_due(p, night)
        if got != want:
            wrong_release += 1
            example = example or f"#{p.pk}: released {got}, release_due {want}"
        due = CLAIMS_PER_PURCHASE - CONFIRMED_BEFORE - (0 if p.lessons == 10 else 2)
        if counted.get(p.pk, 0) != p.lessons_confirmed or autos.get(p.pk, 0) != due:
            wrong_count += 1
        twice += n_tonight > 1
    if wrong_release:
        problems.append(f"{wrong_release} purchases whose released != release_due ({example})")
    if wrong_count:
        problems.append(f"{wrong_count} purchases whose confirmed lessons or auto-confirmed "
                        "claims are wrong")  # fmt: skip
    if twice:
        problems.append(f"{twice} purchases released twice tonight")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--sample", type=int, default=400, help="purchases of the naive loop")
    parser.add_argument("--chunk", type=int, default=0, help="purchases per chunk (setting)")
    parser.add_argument("--reduced", action="store_true",
                        help=f"make bench's scale: --scale {REDUCED['scale']} "
                             f"--sample {REDUCED['sample']}")  # fmt: skip
    args = parser.parse_args()
    if args.reduced:
        args.scale, args.sample = REDUCED["scale"], REDUCED["sample"]
    services = setup_database()
    try:
        from django.conf import settings
        from django.db import connection
        from django.utils import timezone

        from institutions import claims

        institutions = max(1, round(10_000 * args.scale))
        district = fill(institutions)
        reset(district)
        chunk = args.chunk or settings.PORTAL_CLAIM_SWEEP_CHUNK
        cutoff = claims._cutoff(NIGHT)
        with connection.cursor() as cursor:
            cursor.execute(claims.SWEEP_CANDIDATES, {"cutoff": cutoff})
            candidates = [r[0] for r in cursor.fetchall()]
        n = len(candidates)
        step = max(1, n // max(1, args.sample))
        sample = candidates[::step][: args.sample]
        started = timezone.now()
        print(f"\n{n:,} purchases with claims past {claims.confirm_days()} days "
              f"(night {NIGHT}); chunk {chunk:,}", flush=True)  # fmt: skip
        t_naive = naive(sample, NIGHT)
        per = t_naive / max(1, len(sample))
        print(f"naive per-purchase loop: {len(sample)} purchases in {t_naive:.1f} s "
              f"({per * 1000:.1f} ms each) -> {per * n:.0f} s for all {n:,} "
              "(extrapolated)")  # fmt: skip
        t0 = time.perf_counter()
        confirmed = claims.auto_confirm_due(today=NIGHT, chunk=chunk)
        t_sweep = time.perf_counter() - t0
        rest = n - len(sample)
        full = t_sweep * n / max(1, rest)
        print(f"set-based sweep: {confirmed:,} claims of {rest:,} purchases in {t_sweep:.1f} s "
              f"({t_sweep / max(1, rest) * 1e6:.0f} us per purchase; "
              f"{full:.1f} s for all {n:,})")  # fmt: skip
        ratio = (per * n) / full if full else float("inf")
        print(f"ratio naive/sweep: {ratio:.0f}x")
        again = claims.auto_confirm_due(today=NIGHT, chunk=chunk)
        problems = checks(district, NIGHT, started)
        if again:
            problems.append(f"a second sweep confirmed {again} claims again")
        figure = f"{full:.1f} s for {n:,} purchases"
        if args.scale >= 1:
            verdict = "met" if full < TARGET_S else "missed"
            print(f"target (sweep < {TARGET_S} s at scale 1): "
                  f"{'met' if verdict == 'met' else 'NOT met'} ({full:.1f} s)")  # fmt: skip
        else:
            verdict = ""
            linear = full * 200_000 / max(1, n)
            print(f"target (sweep < {TARGET_S} s at scale 1): not judged at scale {args.scale:g} "
                  f"(linear estimate for 200,000 purchases: {linear:.0f} s)")  # fmt: skip
            figure += f" (linear estimate for 200,000: {linear:.0f} s)"
        table_row(
            f"escrow sweep, scale {args.scale:g}",
            figure,
            baseline=f"naive loop {per * n:.0f} s (extrapolated from {len(sample)})",
            ratio=ratio,
            target=f"< {TARGET_S} s at scale 1" + ("" if args.scale >= 1 else " (not judged)"),
            verdict=verdict,
        )
        print(f"load average during the run: {os.getloadavg()[0]:.1f} (2 cores: above 2, "
              "other work shares the machine and the figures grow)")  # fmt: skip
        if problems:
            print("CHECKS FAILED:\n  " + "\n  ".join(problems))
            return 1
        print("checks passed: ledger balanced, released == release_due for every purchase "
              "(disputed: held), confirmed lessons == confirmed claims, none confirmed or "
              "released twice, a second sweep finds nothing")  # fmt: skip
        return 0
    finally:
        services.stop()


if __name__ == "__main__":
    sys.exit(main())
