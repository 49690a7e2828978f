"""A burst of 2,000 parents competing for 300 places in one course, through the real web stack.

    .venv/bin/python bench/afterschool_burst.py [--parents 2000] [--capacity 300] [--fee 5]
                                                [--workers 2] [--concurrency 64] [--rounds 3]
                                                [--reduced] [--profile N]

``--reduced`` (what `make bench` runs): 1,000 parents, 150 places, one round, on a data set
of its own (district ASBURSTR, users asburstr_p...), so the full one is kept. The table row
(bench/_common.table_row) "enrolment burst, <fee> 元": enrolments/s and p99 (the median of
the rounds), /ping's throughput measured in the same run, their ratio; the target (issue 20)
is a ratio >= 0.15 with p99 <= 400 ms at 64 threads.

Uses DATABASE_URL's server (or the embedded one) with a separate database, <name>_bench. It
creates once and keeps (bulk creation, under a second): a district (code ASBURST), one primary
school with one grade-3 class, one teacher, the parents (users asburst_p00000..., unusable
passwords) each with one child in that class, a term covering today, the school's plan in
effect for it and one published course for grade 3 with --capacity places and its lessons
(as publishing makes them; free unless --fee gives the yuan per lesson, then each place taken
is billed inside the enrolment and the checks count the bills). Each parent is
logged in without the password hasher: a session made with the server's SESSION_ENGINE and
the auth session keys, and a CSRF token (the csrftoken cookie and the form's
csrfmiddlewaretoken field, plus the Origin a browser sends).

It serves the portal with gunicorn (DJANGO_DEBUG=false, PORTAL_PRODUCTION=false) on a free
port of 127.0.0.1. Each round first deletes the course's enrolments (and whatever references
them: foreign keys, generic relations such as the audit log; tables not in the database are
skipped), then --concurrency threads wait on a barrier and together send each parent's
POST /afterschool/enrol/ once (the parents in a shuffled order), then the same number of
GET /ping (Django's smallest view) through the same client code. A sampler counts the
portal's database sessions waiting on a lock meanwhile. It prints enrolments per second,
p50/p95/p99, the same for /ping and the ratios, then checks from the database and the
answers: every request a 302 to the menu, exactly --capacity enrolled and the rest waiting,
each child exactly one live enrolment and one audit row, every enrolled row before every
waiting row, the waiting positions 1..n without gaps, (created_at, id) order the same as
the order of the ids (assigned under the course's row lock, so the commit order), the
position each parent was told equal to the position in the database, and no parent placed
after one whose request started only after theirs was answered. Any failed check makes the
exit status 1. With --rounds > 1 it prints min/median/max of the figures.

``--profile N``: no server, no burst. In this process, N parents (of the same data set, with
the same sessions) enrol through django.test.Client (the whole middleware stack, CSRF
checked) under cProfile, which prints the functions by cumulative and by own time; then one
more parent's request is run with its SQL captured: each statement with its time, and the
request's wall time against the sum of its statements. For finding where an enrolment's
milliseconds go (issue 20); the figures of a run are only comparable on the same machine.
"""

import argparse
import datetime as dt
import http.client
import math
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import threading
import time
from decimal import Decimal
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 20261201
DISTRICT = ("ASBURST", "课后服务压测区")
SCHOOL = ("ASBURST1", "课后服务压测小学")
TERM = "压测学期"
COURSE = "压测编程社团"
USER_PREFIX = "asburst_p"
TEACHER = "asburst_teacher"
# --reduced: a data set of its own, so that the full one is kept for `make bench FULL=1`
REDUCED = {"district": ("ASBURSTR", "课后服务压测区（缩减）"),
           "school": ("ASBURSTR1", "课后服务缩减压测小学"),
           "user_prefix": "asburstr_p", "teacher": "asburstr_teacher"}  # fmt: skip
TARGET_RATIO = 0.15  # issue 20: enrolments/s against /ping's req/s in the same run
TARGET_P99_MS = 400
REQUEST_TIMEOUT = 60  # seconds per request (socket timeout)
BURST_LIMIT = 600  # seconds a whole burst may take before it counts as hung


from _common import Gunicorn, setup_bench_database, table_row  # noqa: E402

# --- the data set ---------------------------------------------------------------------------


def _world(n_parents: int, capacity: int, fee: Decimal, *, reduced: bool = False):
    """The district, school, class, teacher, term, plan and course, and the parents with one
    child each: created once, reused (and the term moved over today) on later runs. Returns
    (offering, [(user, child_id)]) for the first n_parents parents. ``reduced``: the
    reduced data set's district, school and users (REDUCED) instead."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from afterschool.models import Offering, SchoolPlan
    from portal.models import (
        Child,
        District,
        Parent,
        School,
        SchoolClass,
        SchoolPeriod,
        SchoolStaff,
    )

    User = get_user_model()
    today = timezone.localdate()
    district_code, school_code, user_prefix, teacher_name = (
        (REDUCED["district"], REDUCED["school"], REDUCED["user_prefix"], REDUCED["teacher"])
        if reduced
        else (DISTRICT, SCHOOL, USER_PREFIX, TEACHER)
    )
    with transaction.atomic():
        district, _ = District.objects.get_or_create(
            code=district_code[0], defaults={"name": district_code[1]}
        )
        school, _ = School.objects.get_or_create(
            code=school_code[0],
            defaults={"name": school_code[1], "stage": School.Stage.PRIMARY,
                      "district": district},
        )  # fmt: skip
        klass, _ = SchoolClass.objects.get_or_create(school=school, grade=3, number=1)
        teacher_user, _ = User.objects.get_or_create(
            username=teacher_name, defaults={"password": make_password(None)}
        )
        teacher, _ = SchoolStaff.objects.get_or_create(
            user=teacher_user,
            defaults={"school": school, "role": SchoolStaff.Role.TEACHER, "name": "压测教师"},
        )
        term, _ = SchoolPeriod.objects.update_or_create(
            district=district, kind=SchoolPeriod.Kind.TERM, name=TERM,
            defaults={"start": today - dt.timedelta(days=60),
                      "end": today + dt.timedelta(days=120), "status": "active"},
        )  # fmt: skip
        plan, _ = SchoolPlan.objects.update_or_create(
            school=school, term=term,
            defaults={"weekdays": [0, 1, 2, 3, 4], "start_time": dt.time(15, 30),
                      "end_time": dt.time(17, 30), "items": "托管、作业辅导、社团",
                      "status": SchoolPlan.Status.IN_EFFECT},
        )  # fmt: skip
        offering, _ = Offering.objects.update_or_create(
            school=school, name=COURSE,
            defaults={"plan": plan, "kind": Offering.Kind.ENRICHMENT, "teacher": teacher,
                      "grades": [3], "capacity": capacity, "weekday": 2,
                      "start": dt.time(15, 30), "end": dt.time(16, 30), "fee_per_lesson": fee,
                      "status": Offering.Status.PUBLISHED,
                      # signup closes at the first lesson: the course starts after the burst
                      "starts_on": today + dt.timedelta(days=1)},
        )  # fmt: skip
        # lessons an earlier run made before the course's start (nothing hangs on them)
        offering.lessons.filter(date__lt=offering.starts_on).delete()
        try:  # the lessons publishing creates (bills count them)
            from afterschool.lessons import lessons_generate
        except ImportError:
            pass
        else:
            lessons_generate(offering)

        names = [f"{user_prefix}{i:05d}" for i in range(n_parents)]
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
            [
                Parent(user=users[n], name=f"压测家长{i}", phone=f"139{i:08d}")
                for i, n in enumerate(names)
                if users[n].pk not in with_parent
            ],
            batch_size=1000,
        )
        parents = {p.user_id: p for p in Parent.objects.filter(user__in=users.values())}
        link = Child.parents.through
        child_of = {}
        for parent_id, child_id in link.objects.filter(
            parent__in=parents.values(), child__school_class=klass
        ).values_list("parent_id", "child_id"):
            child_of[parent_id] = min(child_id, child_of.get(parent_id, child_id))
        missing = [(i, parents[users[n].pk]) for i, n in enumerate(names)
                   if parents[users[n].pk].pk not in child_of]  # fmt: skip
        children = Child.objects.bulk_create(
            [Child(name=f"压测学生{i:05d}", school=school, school_class=klass) for i, _ in missing],
            batch_size=1000,
        )
        pairs = [(p.pk, c.pk) for (_, p), c in zip(missing, children, strict=True)]
        link.objects.bulk_create([link(parent_id=p, child_id=c) for p, c in pairs], batch_size=1000)
        child_of.update(pairs)
    created = len(names) - len(have)
    family = [(users[n], child_of[parents[users[n].pk].pk]) for n in names]
    return offering, family, created


# --- resetting the course's enrolments ------------------------------------------------------


def _absent(exc) -> bool:
    """The table or column is not in the database (a model whose migration is not there)."""
    return getattr(exc.__cause__, "pgcode", None) in ("42P01", "42703")


def _select(cur, sql, params):
    """Run a SELECT in a savepoint; None if its table or column does not exist."""
    from django.db import ProgrammingError, transaction

    try:
        with transaction.atomic():
            cur.execute(sql, params)
            return [r[0] for r in cur.fetchall()]
    except ProgrammingError as exc:
        if _absent(exc):
            return None
        raise


def _purge(cur, model, pks, depth=0) -> int:
    """Delete these rows of model and, first, every row that references them (foreign keys,
    many-to-many rows, generic foreign keys and the audit log's content_type/object_id),
    whatever their on_delete. Returns the rows deleted."""
    from django.apps import apps
    from django.contrib.contenttypes.fields import GenericForeignKey
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    if not pks:
        return 0
    if depth > 10:
        raise RuntimeError(f"references to {model._meta.label} nest deeper than 10 levels")
    q = connection.ops.quote_name
    table, pk = q(model._meta.db_table), q(model._meta.pk.column)
    deleted = 0
    for rel in model._meta.related_objects:
        if rel.many_to_many:
            sub = rel.through
            field = sub._meta.get_field(rel.field.m2m_reverse_field_name())
        else:
            sub, field = rel.related_model, rel.field
        target = q(field.target_field.column)
        refs = _select(
            cur,
            f"SELECT s.{q(sub._meta.pk.column)} FROM {q(sub._meta.db_table)} s"
            f" JOIN {table} t ON t.{target} = s.{q(field.column)} WHERE t.{pk} = ANY(%s)",
            [list(pks)],
        )
        if refs and sub is model:
            refs = list(set(refs) - set(pks))
        if refs:
            deleted += _purge(cur, sub, refs, depth + 1)
    content_type = ContentType.objects.get_for_model(model)
    for other in apps.get_models():
        pairs = {(g.ct_field, g.fk_field) for g in other._meta.private_fields
                 if isinstance(g, GenericForeignKey)}  # fmt: skip
        names = {f.name for f in other._meta.concrete_fields}
        if {"content_type", "object_id"} <= names:  # the audit log: the pair without a GFK
            pairs.add(("content_type", "object_id"))
        for ct_name, fk_name in sorted(pairs):
            ct = other._meta.get_field(ct_name)
            fk = other._meta.get_field(fk_name)
            if getattr(ct, "related_model", None) is not ContentType:
                continue
            refs = _select(
                cur,
                f"SELECT {q(other._meta.pk.column)} FROM {q(other._meta.db_table)}"
                f" WHERE {q(ct.column)} = %s AND {q(fk.column)} = ANY(%s)",
                [content_type.pk, [fk.to_python(str(p)) for p in pks]],
            )
            if refs:
                deleted += _purge(cur, other, refs, depth + 1)
    cur.execute(f"DELETE FROM {table} WHERE {pk} = ANY(%s)", [list(pks)])
    if cur.rowcount:
        _PURGED.add(table)
    return deleted + cur.rowcount


_PURGED = set()  # the tables _purge deleted rows from, for vacuum_purged


def vacuum_purged():
    """VACUUM (ANALYZE) the tables rows were purged from. A round's reset deletes thousands
    of rows a real course never loses; on a server whose autovacuum is off or has not come
    round yet, their dead index entries would be walked by the next round's every count of
    places (seen: 45,816 dead entries after some twenty rounds, the statement of reads under
    the course's lock at 2.2 ms of PostgreSQL's CPU instead of 0.1)."""
    from django.db import connection

    with connection.cursor() as cur:
        for table in sorted(_PURGED):
            cur.execute(f"VACUUM (ANALYZE) {table}")
    _PURGED.clear()


def _reset(offering) -> int:
    from django.db import connection, transaction

    from afterschool.models import Enrolment

    with transaction.atomic(), connection.cursor() as cur:
        pks = list(Enrolment.objects.filter(offering=offering).values_list("pk", flat=True))
        removed = _purge(cur, Enrolment, pks)
    vacuum_purged()
    return removed


# --- logging the parents in -----------------------------------------------------------------


def _sessions(family):
    """One session per parent, made by the server's SESSION_ENGINE with the keys
    django.contrib.auth.login writes, and a CSRF secret. Returns [(session key, csrf)]."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.crypto import get_random_string

    # the backend a password login records: the first that checks passwords (axes' only
    # refuses a locked-out login)
    backend = next(b for b in settings.AUTHENTICATION_BACKENDS if not b.startswith("axes."))
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    out = []
    for user, _child in family:
        store = store_class()
        store[SESSION_KEY] = user._meta.pk.value_to_string(user)
        store[BACKEND_SESSION_KEY] = backend
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.save()
        # CsrfViewMiddleware accepts the cookie's 32-character secret itself as the token
        out.append((store.session_key, get_random_string(32)))
    return out


def _drop_sessions(keys):
    from importlib import import_module

    from django.conf import settings

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    from django.contrib.sessions.backends.db import SessionStore as DatabaseStore

    if issubclass(store_class, DatabaseStore):  # one statement
        store_class.get_model_class().objects.filter(session_key__in=keys).delete()
    else:
        for key in keys:
            store_class(key).delete()


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
        if ("pytest" in cmd or "bench/" in cmd) and "afterschool_burst" not in cmd:
            others.append(cmd.strip()[:80])
    return f"load {os.getloadavg()[0]:.2f}; other tests/benchmarks: " + (
        "; ".join(others) if others else "none"
    )


# --- the client -----------------------------------------------------------------------------


def _request(port, method, path, headers, body):
    """One request on a fresh connection (gunicorn's sync workers close each one anyway):
    (status, seconds, start, end, Location, Set-Cookie values); status 0 on a socket error."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    start = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        end = time.perf_counter()
        return (response.status, end - start, start, end, response.getheader("Location"),
                response.msg.get_all("Set-Cookie") or [])  # fmt: skip
    except (OSError, http.client.HTTPException) as exc:
        end = time.perf_counter()
        return 0, end - start, start, end, None, [repr(exc)]
    finally:
        conn.close()


def _fire(port, jobs, concurrency):
    """Send every job once from `concurrency` threads released together by a barrier.
    Returns (results in job order, seconds from the release to the last answer)."""
    n = len(jobs)
    threads_n = max(1, min(concurrency, n))
    results = [None] * n
    barrier = threading.Barrier(threads_n + 1)
    lock = threading.Lock()
    cursor = iter(range(n))

    def worker():
        barrier.wait(timeout=60)
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                return
            results[i] = _request(port, *jobs[i])

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(threads_n)]
    for t in threads:
        t.start()
    barrier.wait(timeout=60)
    released = time.perf_counter()
    deadline = time.monotonic() + BURST_LIMIT
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() for t in threads):
        raise RuntimeError(f"the burst did not finish within {BURST_LIMIT} s")
    return results, max(r[3] for r in results) - released


def _pct(values, p):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _figures(results, elapsed):
    ms = [1000 * r[1] for r in results]
    return {
        "rps": len(results) / elapsed,
        "elapsed": elapsed,
        "p50": _pct(ms, 50),
        "p95": _pct(ms, 95),
        "p99": _pct(ms, 99),
        "max": max(ms),
    }


class LockSampler(threading.Thread):
    """Counts the other sessions of this database waiting on a lock, every 20 ms."""

    def __init__(self):
        super().__init__(daemon=True)
        self.stop_event = threading.Event()
        self.samples = 0
        self.with_waiters = 0
        self.most = 0
        self.events = set()
        self.error = None

    def run(self):
        from django.db import connection

        try:
            with connection.cursor() as cur:
                while not self.stop_event.is_set():
                    cur.execute(
                        "SELECT count(*), array_agg(DISTINCT wait_event) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                        " AND wait_event_type = 'Lock'"
                    )
                    waiting, events = cur.fetchone()
                    self.samples += 1
                    if waiting:
                        self.with_waiters += 1
                        self.most = max(self.most, waiting)
                        self.events.update(e for e in events or [] if e)
                    self.stop_event.wait(0.02)
        except Exception as exc:  # reported, not fatal: the sampler only informs
            self.error = exc
        finally:
            connection.close()

    def stop(self):
        self.stop_event.set()
        self.join(10)

    def summary(self) -> str:
        if self.error is not None:
            return f"lock sampler failed: {self.error}"
        share = 100 * self.with_waiters / max(1, self.samples)
        kinds = ", ".join(sorted(self.events)) or "none"
        return (f"sessions waiting on a lock: in {share:.0f} % of {self.samples} samples, "
                f"at most {self.most} at once (wait events: {kinds})")  # fmt: skip


# --- checking -------------------------------------------------------------------------------


def _told(set_cookies):
    """What the server told the parent: the messages cookie of the redirect, decoded with the
    portal's settings. ("enrolled"|"waiting"|"error"|None, position or None, text)."""
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpRequest

    for header in set_cookies:
        jar = SimpleCookie()
        try:
            jar.load(header)
        except Exception:
            continue
        morsel = jar.get(CookieStorage.cookie_name)
        if morsel is None:
            continue
        messages = CookieStorage(HttpRequest())._decode(morsel.value) or []
        for message in messages:
            text = str(message.message)
            m = re.search(r"第\s*(\d+)\s*位", text)
            if m:
                return "waiting", int(m.group(1)), text
            if "已报名" in text:
                return "enrolled", None, text
            return "error", None, text
    return None, None, ""


def _verify(offering, family, order, results, capacity, fee):
    """The checks against the database and the answers: [(verdict, ok)]."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Count
    from django.urls import reverse

    from afterschool import enrolment as svc
    from afterschool.models import Enrolment
    from portal.models import AuditLog

    n = len(family)
    checks = []
    menu = reverse("afterschool:menu")
    statuses = {}
    for r in results:
        statuses[r[0]] = statuses.get(r[0], 0) + 1
    to_menu = sum(1 for r in results if r[0] == 302 and (r[4] or "").split("?")[0] == menu)
    checks.append((f"every request answered with a 302 to {menu}: {to_menu}/{n} "
                   f"(statuses {dict(sorted(statuses.items()))})", to_menu == n))  # fmt: skip
    fivexx = sum(v for k, v in statuses.items() if k >= 500 or k == 0)
    checks.append((f"no 5xx or socket errors: {fivexx}", fivexx == 0))

    rows = list(
        Enrolment.objects.filter(offering=offering)
        .order_by("created_at", "id")
        .values_list("id", "child_id", "status", "created_at")
    )
    by_status = {}
    for _id, _child, status, _at in rows:
        by_status[status] = by_status.get(status, 0) + 1
    enrolled = by_status.get("enrolled", 0)
    waiting = by_status.get("waiting", 0)
    checks.append((f"enrolled = {capacity}: {enrolled}", enrolled == capacity))
    checks.append((f"waiting = {n - capacity}: {waiting}", waiting == n - capacity))
    checks.append((f"rows = {n}, none withdrawn: {len(rows)} {by_status}", len(rows) == n))

    children = {child for _user, child in family}
    live = dict(
        Enrolment.objects.filter(offering=offering)
        .exclude(status=Enrolment.Status.WITHDRAWN)
        .values_list("child_id")
        .annotate(k=Count("id"))
    )
    one_each = set(live) == children and all(k == 1 for k in live.values())
    lost = len(children - set(live))
    checks.append((f"each child exactly one live enrolment (missing {lost}, "
                   f"doubled {sum(1 for k in live.values() if k > 1)})", one_each))  # fmt: skip

    audited = AuditLog.objects.filter(
        content_type=ContentType.objects.get_for_model(Enrolment),
        object_id__in=[str(r[0]) for r in rows],
        action__in=["afterschool.enrolment.enrolled", "afterschool.enrolment.waiting"],
    ).count()
    checks.append((f"one audit row per enrolment: {audited}/{len(rows)}", audited == len(rows)))

    if fee > 0:
        from django.apps import apps

        Bill = apps.get_model("afterschool", "Bill")
        billed = dict(
            Bill.objects.filter(enrolment__offering=offering)
            .exclude(status="cancelled")
            .values_list("enrolment_id")
            .annotate(k=Count("id"))
        )
        place = {r[0] for r in rows if r[2] == "enrolled"}
        checks.append((f"one bill per place taken, none for a waiting place: {len(billed)} "
                       f"enrolments billed", billed == dict.fromkeys(place, 1)))  # fmt: skip

    statuses_in_order = [r[2] for r in rows]
    first_waiting = statuses_in_order.index("waiting") if "waiting" in statuses_in_order else n
    enrolled_first = all(s == "enrolled" for s in statuses_in_order[:first_waiting]) and all(
        s == "waiting" for s in statuses_in_order[first_waiting:]
    )
    checks.append(("every enrolled row created before every waiting row (created_at, id)",
                   enrolled_first))  # fmt: skip
    ids = [r[0] for r in rows]
    checks.append(("(created_at, id) order = id order (ids drawn under the course lock)",
                   ids == sorted(ids)))  # fmt: skip

    waiting_rows = list(
        Enrolment.objects.filter(offering=offering, status=Enrolment.Status.WAITING).order_by(
            "created_at", "id"
        )
    )
    positions = [svc.waiting_position(e) for e in waiting_rows]
    checks.append((f"waiting positions 1..{len(waiting_rows)} without gaps (waiting_position)",
                   positions == list(range(1, len(waiting_rows) + 1))))  # fmt: skip

    # what each parent was told, against the database
    state = {child: (status, None) for _id, child, status, _at in rows}
    for position, e in zip(positions, waiting_rows, strict=True):
        state[e.child_id] = ("waiting", position)
    told_ok = undecodable = 0
    wrong = []
    for (_user, child), r in zip((family[i] for i in order), results, strict=True):
        said, position, text = _told(r[5])
        if said is None:
            undecodable += 1
        elif (said, position) == state.get(child, (None, None)):
            told_ok += 1
        elif len(wrong) < 3:
            wrong.append(f"child {child}: told {text!r}, database {state.get(child)}")
    checks.append((f"each parent told the place they hold: {told_ok}/{n}"
                   + (f" ({undecodable} without a message)" if undecodable else "")
                   + ("; " + "; ".join(wrong) if wrong else ""), told_ok == n))  # fmt: skip

    # first come, first served: a request sent after another was answered is placed after it
    rank = {child: i for i, (_id, child, _s, _at) in enumerate(rows)}
    timed = [(r[2], r[3], rank.get(family[i][1], -1)) for i, r in zip(order, results, strict=True)]
    ends = sorted((end, k) for _start, end, k in timed)
    best, j, overtaken = -1, 0, 0
    for start, _end, k in sorted(timed):
        while j < len(ends) and ends[j][0] < start:
            best = max(best, ends[j][1])
            j += 1
        overtaken += best > k
    checks.append((f"no parent placed before one answered before they asked: {overtaken} "
                   "overtaken", overtaken == 0))  # fmt: skip
    return checks


# --- profiling in-process -----------------------------------------------------------------


def _profile(offering, family, cookies, n, out=None):
    """``--profile N``: N enrolments under cProfile, then one with its queries and times."""
    import cProfile
    import pstats

    from django.conf import settings
    from django.db import connection
    from django.test import Client

    if n + 2 > len(family):
        raise SystemExit("--profile N needs N + 2 <= --parents")
    _reset(offering)
    connection.close()

    # one client, as one gunicorn worker: the middleware is loaded once (a new Client per
    # request would load it again, WhiteNoise's scan of the static files included)
    c = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1")

    def post(i):
        session_key, csrf = cookies[i]
        c.cookies.clear()
        c.cookies[settings.SESSION_COOKIE_NAME] = session_key
        c.cookies[settings.CSRF_COOKIE_NAME] = csrf
        data = {"csrfmiddlewaretoken": csrf, "child": family[i][1], "offering": offering.pk}
        r = c.post("/afterschool/enrol/", data, HTTP_ORIGIN="http://127.0.0.1")
        if r.status_code != 302:
            raise RuntimeError(f"enrolment answered {r.status_code}")
        return r

    post(0)  # imports, the first connection, caches
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    for i in range(1, n + 1):
        post(i)
    profiler.disable()
    elapsed = time.perf_counter() - t0
    print(f"{n} enrolments in-process: {1000 * elapsed / n:.2f} ms each (under cProfile)")
    if out:
        profiler.dump_stats(out)  # for pstats' callers/callees, snakeviz...
    for key in ("cumulative", "tottime"):
        print(f"\n--- by {key} ---")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats(key).print_stats(45)
    timed = []

    def timer(execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timed.append((1000 * (time.perf_counter() - t), sql))

    t0 = time.perf_counter()
    with connection.execute_wrapper(timer):
        post(n + 1)
    wall = 1000 * (time.perf_counter() - t0)
    sql_ms = sum(ms for ms, _sql in timed)
    print(f"\none enrolment: {wall:.2f} ms wall, {len(timed)} statements, {sql_ms:.2f} ms in "
          f"them (as the client sees them), {wall - sql_ms:.2f} ms outside")  # fmt: skip
    from portal.prepared import source

    for ms, sql in timed:  # a prepared statement (portal.prepared) as its SQL
        mark = "P " if source(sql) != sql else "  "
        print(f"  {ms:7.2f} ms {mark}{source(sql)[:240]}")
    times, cpu = [], []
    backend = _backend_cpu()  # PostgreSQL's side: its server process's CPU (same machine)
    first = backend()
    for i in range(n + 2, min(len(family), n + 2 + 100)):
        t0, c0 = time.perf_counter(), time.process_time()
        post(i)
        times.append(1000 * (time.perf_counter() - t0))
        cpu.append(1000 * (time.process_time() - c0))
    if times:
        server = (backend() - first) / len(times) if first is not None else None
        # this process's CPU (Python) apart from the wall time: steadier on a shared machine
        print(
            f"{len(times)} more without the profiler: median {statistics.median(times):.2f} "
            f"ms, min {min(times):.2f} ms; this process's CPU median "
            f"{statistics.median(cpu):.2f} ms; PostgreSQL's server process "
            + (f"{server:.2f} ms CPU each (mean)" if server is not None else "not readable")
        )
    _reset(offering)


def _backend_cpu():
    """A function answering the CPU time (ms) of this connection's PostgreSQL server process,
    or None when the server's /proc is not this machine's."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    tick = os.sysconf("SC_CLK_TCK")

    def read():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return 1000 * (int(fields[11]) + int(fields[12])) / tick  # utime + stime

    return read


# --- a round --------------------------------------------------------------------------------


def _round(number, server, offering, family, cookies, args):
    from django.conf import settings
    from django.db import connection

    removed = _reset(offering)
    connection.close()  # the sampler and the checks open their own
    rng = random.Random(SEED + number)
    order = list(range(len(family)))
    rng.shuffle(order)
    origin = server.url
    jobs = []
    for i in order:
        session_key, csrf = cookies[i]
        body = urlencode(
            {"csrfmiddlewaretoken": csrf, "child": family[i][1], "offering": offering.pk}
        )
        jobs.append(("POST", "/afterschool/enrol/", {
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}; "
                      f"{settings.CSRF_COOKIE_NAME}={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": origin,
        }, body))  # fmt: skip
    log_at = server.log_size()
    sampler = LockSampler()
    sampler.start()
    try:
        results, elapsed = _fire(server.port, jobs, args.concurrency)
    finally:
        sampler.stop()
    burst = _figures(results, elapsed)
    pings, ping_elapsed = _fire(server.port, [("GET", "/ping", {}, None)] * len(jobs),
                                args.concurrency)  # fmt: skip
    ping = _figures(pings, ping_elapsed)
    ping_bad = sum(1 for r in pings if r[0] != 200)
    print(f"\nround {number}: {len(jobs)} parents, {args.concurrency} threads, "
          f"{removed} rows of the previous round deleted first; {_load_note()}")  # fmt: skip
    print(f"{'':24}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'s':>7}")
    for title, f in [("POST /afterschool/enrol/", burst), ("GET /ping", ping)]:
        print(f"{title:24}{f['rps']:9.1f}{f['p50']:9.1f}{f['p95']:9.1f}{f['p99']:9.1f}"
              f"{f['max']:9.1f}{f['elapsed']:7.2f}")  # fmt: skip
    ratio = burst["rps"] / ping["rps"]
    p99_ratio = burst["p99"] / ping["p99"]
    print(f"enrolments per second {burst['rps']:.1f}; burst / ping throughput {ratio:.3f}, "
          f"p99 {p99_ratio:.1f}x the ping's; ping non-200: {ping_bad}")  # fmt: skip
    print(f"  {sampler.summary()}")
    problems = server.problems_since(log_at)
    print(f"  server log: {len(problems)} error lines"
          + "".join(f"\n    {line[:160]}" for line in problems[:5]))  # fmt: skip
    checks = _verify(offering, family, order, results, args.capacity, args.fee)
    for verdict, ok in checks:
        print(f"  {'ok  ' if ok else 'FAIL'} {verdict}")
    connection.close()
    ok = all(ok for _v, ok in checks) and ping_bad == 0
    return {
        "enrol/s": burst["rps"], "enrol p50": burst["p50"], "enrol p95": burst["p95"],
        "enrol p99": burst["p99"], "ping/s": ping["rps"], "ping p99": ping["p99"],
        "throughput ratio": ratio, "p99 ratio": p99_ratio,
    }, ok  # fmt: skip


def _warm(server, family, cookies, offering):
    """Every worker imports, renders and connects once before the first round: the menu of a
    few parents (reads only) and /ping."""
    from django.conf import settings

    jobs = [("GET", "/ping", {}, None)] * 40
    for session_key, csrf in cookies[: min(20, len(cookies))]:
        jobs.append(("GET", "/afterschool/menu/", {
            "Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}; "
                      f"{settings.CSRF_COOKIE_NAME}={csrf}"}, None))  # fmt: skip
    results, _elapsed = _fire(server.port, jobs, 8)
    bad = [r[0] for r in results if r[0] != 200]
    if bad:
        raise RuntimeError(f"warm-up answered {bad[:5]} (the parents' menu should be 200)")


def _table_row(figures, args):
    """The row of `make bench`'s table: the median of the rounds."""
    med = {name: statistics.median(f[name] for f in figures) for name in figures[0]}
    met = med["throughput ratio"] >= TARGET_RATIO and med["enrol p99"] <= TARGET_P99_MS
    rounds = f" (median of {len(figures)} rounds)" if len(figures) > 1 else ""
    table_row(
        f"enrolment burst, {args.fee:g} 元",
        f"{med['enrol/s']:.1f}/s, p99 {med['enrol p99']:.0f} ms{rounds}",
        baseline=f"/ping {med['ping/s']:.0f} req/s",
        ratio=med["throughput ratio"],
        target=f">= {TARGET_RATIO}, p99 <= {TARGET_P99_MS} ms",
        verdict="met" if met else "missed",
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--parents", type=int, default=2000)
    parser.add_argument("--capacity", type=int, default=300)
    parser.add_argument("--fee", type=Decimal, default=Decimal("5"), help="yuan per lesson")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--concurrency", type=int, default=64, help="client threads")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reduced", action="store_true",
                        help="make bench's scale: 1,000 parents, 150 places, 1 round, "
                             "a data set of its own")  # fmt: skip
    parser.add_argument("--profile", type=int, metavar="N", default=0,
                        help="no server: N enrolments in-process under cProfile, then one "
                             "with its queries (issue 20)")  # fmt: skip
    parser.add_argument("--profile-out", metavar="FILE", help="--profile's stats, to a file")
    args = parser.parse_args()
    if args.reduced:
        args.parents, args.capacity, args.rounds = 1000, 150, 1
    if not 0 < args.capacity < args.parents:
        parser.error("--capacity must be between 1 and --parents - 1")
    # a SIGTERM unwinds like Ctrl-C, so gunicorn and the embedded servers are stopped
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    services = setup_bench_database()
    keys = []
    try:
        from django.db import connection

        t0 = time.perf_counter()
        offering, family, created = _world(
            args.parents, args.capacity, args.fee, reduced=args.reduced
        )
        print(f"course {offering.pk} ({args.capacity} places, {args.fee} yuan a lesson, "
              f"{offering.lessons.count()} lessons), {len(family)} parents "
              f"({created} created) in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        t0 = time.perf_counter()
        cookies = _sessions(family)
        keys = [k for k, _csrf in cookies]
        print(f"{len(cookies)} sessions in {time.perf_counter() - t0:.1f} s")
        connection.close()
        if args.profile:
            _profile(offering, family, cookies, args.profile, args.profile_out)
            return 0
        figures, oks = [], []
        with tempfile.TemporaryDirectory(prefix="afterschool-burst-") as folder:
            server = Gunicorn(args.workers, Path(folder) / "gunicorn.log")
            try:
                server.start()
                print(f"gunicorn --workers {args.workers} on {server.url}; {_load_note()}")
                _warm(server, family, cookies, offering)
                for number in range(1, args.rounds + 1):
                    fig, ok = _round(number, server, offering, family, cookies, args)
                    figures.append(fig)
                    oks.append(ok)
            finally:
                server.stop()
        if len(figures) > 1:
            print(f"\n{len(figures)} rounds{'':14}{'min':>9}{'median':>9}{'max':>9}")
            for name in figures[0]:
                values = [f[name] for f in figures]
                print(f"{name:22}{min(values):9.2f}{statistics.median(values):9.2f}"
                      f"{max(values):9.2f}")  # fmt: skip
        print(f"at the end: {_load_note()}")
        if figures:
            _table_row(figures, args)
        print("all checks " + ("passed" if all(oks) else f"FAILED in {oks.count(False)} round(s)"))
        return 0 if all(oks) else 1
    finally:
        if keys:
            try:
                _drop_sessions(keys)
            except Exception as exc:  # the bench database only; report and go on
                print(f"could not delete the benchmark's sessions: {exc}")
        services.stop()


if __name__ == "__main__":
    sys.exit(main())
