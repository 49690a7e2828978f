"""What one enrolment costs in queries (issue 20: 2,000 parents at once for 300 places,
bench/afterschool_burst.py). The course's row lock serialises every enrolment of a course,
so what runs under it is pinned apart from what runs before it: before the lock the child
(with their live enrolment), the course (with the fingerprints of its row and of the rows
read with it, and its lessons in the same statement); the lock, sent with its timeout in one
round trip, whose statement answers only the course row's fingerprint; under it one
statement of reads (places taken, the waiting list, a live enrolment, the bill's lessons and
waiver, the other fingerprint), then the writes, each row with its audit row in one
statement (portal.audit.create_audited). Each count is also checked for what it must still
decide (the waiver on the bill, the waiting position, a second tap, a clash), and the page
adds no query after the commit.

Run outside a test transaction (as production runs: no ATOMIC_REQUESTS), so the service's
own transaction is the outermost one."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from afterschool import enrolment as svc
from afterschool.models import Bill, Enrolment, Lesson, Waiver
from portal.models import AuditLog
from portal.prepared import source
from tests.afterschool.fees_helpers import early, paid_course
from tests.afterschool.helpers import family

pytestmark = pytest.mark.django_db(transaction=True)

NOT_STATEMENTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT")


def statements(queries):
    """The statements sent, a prepared one as its SQL (portal.prepared.source)."""
    return [source(q["sql"]) for q in queries if not q["sql"].startswith(NOT_STATEMENTS)]


def split(queries):
    """(before the course's lock, the locking statement, under the lock)."""
    sql = statements(queries)
    at = [i for i, s in enumerate(sql) if "FOR UPDATE" in s]
    assert len(at) == 1, sql
    return sql[: at[0]], sql[at[0]], sql[at[0] + 1 :]


@pytest.fixture(autouse=True)
def content_types(db):
    """The audit rows' content types, cached as in a running server (a flush clears them)."""
    ContentType.objects.get_for_models(Enrolment, Bill)


def enrol(user, child, course):
    now = early(course)
    with CaptureQueriesContext(connection) as ctx:
        e = svc.enrol(user=user, child_id=child.pk, offering_id=course.pk, now=now)
    return e, ctx.captured_queries


def writes_with_audit(sql, table):
    """A statement writing a row of ``table`` and its audit row (create_audited)."""
    return (
        sql.startswith(f'WITH new_row AS (INSERT INTO "{table}"')
        and 'INSERT INTO "portal_auditlog"' in sql
    )


def test_a_place_and_its_bill_three_statements_under_the_lock(world):
    course = paid_course(world.school_a, capacity=1)
    Waiver.objects.create(
        child=world.child_a, term=course.plan.term, percent=50, reason="低保", by=world.principal_a
    )
    e, queries = enrol(world.parent_a, world.child_a, course)
    before, lock, under = split(queries)
    # the child with their live enrolment; the course with its lessons
    assert len(before) == 2, before
    assert '"afterschool_lesson"' in before[1]
    # the lock's timeout and the lock in one round trip; the lock reads the course's row
    # only (its fingerprint), no join
    assert lock.startswith("SET LOCAL lock_timeout = '5s'; SELECT"), lock
    assert '"afterschool_offering"' in lock and "JOIN" not in lock
    # one read; the place with its audit row; the bill with its audit row
    assert len(under) == 3, under
    assert under[0].startswith("SELECT")
    assert writes_with_audit(under[1], "afterschool_enrolment")
    assert writes_with_audit(under[2], "afterschool_bill")
    # what the one read decided: the place, and the bill with the waiver read under the lock
    bill = Bill.objects.get(enrolment=e)
    assert e.status == Enrolment.Status.ENROLLED and e.position is None
    assert e.bill.pk == bill.pk
    assert (bill.lessons, bill.gross, bill.waived, bill.amount) == (3, 60, 30, 30)
    # the audit rows the one-statement writes left: the place's and the bill's, as before
    place_audit = AuditLog.objects.get(action="afterschool.enrolment.enrolled")
    assert (place_audit.object_id, place_audit.actor) == (str(e.pk), world.parent_a)
    assert place_audit.object_repr == str(e) and place_audit.new == {
        "offering": course.pk,
        "child": world.child_a.pk,
    }
    bill_audit = AuditLog.objects.get(action="afterschool.bill.issued", object_id=str(bill.pk))
    assert bill_audit.new == {"amount": "30.00", "lessons": 3}


def test_a_waiting_place_two_statements_and_the_position_it_was_told(world):
    course = paid_course(world.school_a, capacity=1)
    (p1, c1), (p2, c2), (p3, c3) = family(world.class_a, 3)
    enrol(p1, c1, course)
    told = []
    for parent, child in ((p2, c2), (p3, c3)):
        e, queries = enrol(parent, child, course)
        before, _lock, under = split(queries)
        assert len(before) == 2, before
        assert len(under) == 2, under  # the read; the waiting row with its audit row: no bill
        assert writes_with_audit(under[1], "afterschool_enrolment")
        assert e.status == Enrolment.Status.WAITING and e.bill is None
        told.append(e.position)
        assert e.position == svc.waiting_position(e)
    assert told == [1, 2]
    assert not Bill.objects.filter(enrolment__status=Enrolment.Status.WAITING).exists()


def test_a_child_with_another_place_one_more_read_and_a_clash_still_refused(world):
    course = paid_course(world.school_a, capacity=5)
    other = paid_course(world.school_a, capacity=5, name="围棋", term=course.plan.term,
                        start=dt.time(16, 30), end=dt.time(17, 30))  # fmt: skip
    clash = paid_course(world.school_a, capacity=5, name="书法", term=course.plan.term,
                        start=dt.time(16), end=dt.time(17))  # fmt: skip
    enrol(world.parent_a, world.child_a, course)
    _e, queries = enrol(world.parent_a, world.child_a, other)
    before, _lock, under = split(queries)
    assert len(before) == 3, before  # + the child's lessons in the courses they hold
    assert len(under) == 3, under
    now = early(clash)
    with CaptureQueriesContext(connection) as ctx, pytest.raises(ValidationError, match="时间冲突"):
        svc.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=clash.pk, now=now)
    sql = statements(ctx.captured_queries)
    assert not any("FOR UPDATE" in s or "INSERT" in s for s in sql), sql
    assert not Enrolment.objects.filter(offering=clash).exists()


def test_a_second_tap_is_answered_before_the_lock(world):
    course = paid_course(world.school_a, capacity=1)
    first, _queries = enrol(world.parent_a, world.child_a, course)
    now = early(course)
    with CaptureQueriesContext(connection) as ctx, pytest.raises(svc.AlreadyEnrolled) as exc:
        svc.enrol(user=world.parent_a, child_id=world.child_a.pk, offering_id=course.pk, now=now)
    assert exc.value.enrolment.pk == first.pk
    sql = statements(ctx.captured_queries)
    assert len(sql) == 2 and not any("FOR UPDATE" in s for s in sql), sql
    assert Enrolment.objects.filter(offering=course).count() == 1
    assert Bill.objects.filter(enrolment__offering=course).count() == 1


def test_the_page_adds_no_query_after_the_commit(world, client_for):
    course = paid_course(world.school_a, capacity=1)
    # the course's lessons from today: enrolment is open until the first starts
    Lesson.objects.filter(offering=course, date__lte=early(course).date()).delete()
    (p2, c2), = family(world.class_a, 1)  # fmt: skip
    pages = []
    for user, child in ((world.parent_a, world.child_a), (p2, c2)):
        c = client_for(user)
        with CaptureQueriesContext(connection) as ctx:
            r = c.post(reverse("afterschool:enrol"), {"child": child.pk, "offering": course.pk})
        assert r.status_code == 302
        sql = statements(ctx.captured_queries)
        last_write = max(i for i, s in enumerate(sql) if "INSERT" in s)
        assert sql[last_write + 1 :] == [], sql[last_write + 1 :]
        pages.append(c.get(reverse("afterschool:menu")).content.decode())
    place = Bill.objects.get(enrolment__child=world.child_a)
    assert f"已生成账单 {place.amount} 元" in pages[0]
    assert "已进入候补，第 1 位" in pages[1]
