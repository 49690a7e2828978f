"""The enrolment's cheaper path (issue 20) still decides what the slower one did.

- The course is read once, before the lock, in a fixed statement (portal.rows.Rows): the same
  instances as the ORM's select_related, relations cached. Under the lock it is used only
  when its fingerprints say nothing changed: a course, term or fee rule changed between the
  two is read again under the lock, and the answer is the changed row's (the refusal).
- The bill's reads of a term are fixed SQL: the same figures as the querysets they stand for.
- A row and its audit row in one statement (portal.audit.create_audited) write what save()
  and audit_record() wrote; a model with save signals is saved the ordinary way.

Run outside a test transaction, as the service's own transaction is then the outermost."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from afterschool import enrolment as svc
from afterschool import fees
from afterschool.models import Bill, Enrolment, FeeRule, Lesson, Offering, Waiver
from portal.audit import audit_record, create_audited
from portal.models import AuditLog, SchoolPeriod
from tests.afterschool.fees_helpers import early, paid_course

pytestmark = pytest.mark.django_db(transaction=True)


def columns(obj):
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def enrol(user, child, course):
    return svc.enrol(user=user, child_id=child.pk, offering_id=course.pk, now=early(course))


def offering_reads(queries):
    return [q["sql"] for q in queries if '"afterschool_offering"' in q["sql"]]


# --- the course in one fixed statement ----------------------------------------------------


def test_the_lessons_read_with_the_course_are_first_starts_and_course_lessons(world):
    """The course's statement brings its lessons as JSON (one round trip less): the first
    start and the lessons to come are what first_starts and course_lessons answer, with
    the first lesson cancelled, one moved and one done."""
    course = paid_course(world.school_a, capacity=3)
    lessons = list(Lesson.objects.filter(offering=course).order_by("date", "start"))
    assert len(lessons) >= 3
    lessons[0].status = Lesson.Status.CANCELLED
    lessons[0].save(update_fields=["status"])
    lessons[1].start, lessons[1].end = dt.time(16, 5), dt.time(17, 5)
    lessons[1].save(update_fields=["start", "end"])
    today = lessons[1].date  # the second lesson's day: it and the later ones are to come
    read = svc._offering_for_enrolment(course.pk, lessons=True)
    first, coming = svc._lessons_of(read.lesson_rows, today)
    assert first == svc.first_starts([course.pk])[course.pk]
    assert first == timezone.make_aware(dt.datetime.combine(lessons[1].date, dt.time(16, 5)))
    assert coming == svc.course_lessons([course.pk], today)[course.pk]
    assert coming[0] == (lessons[1].date, dt.time(16, 5), dt.time(17, 5))
    Lesson.objects.filter(offering=course).update(status=Lesson.Status.CANCELLED)
    read = svc._offering_for_enrolment(course.pk, lessons=True)
    assert read.lesson_rows is None
    assert svc._lessons_of(read.lesson_rows, today) == (None, [])
    assert svc.first_starts([course.pk]).get(course.pk) is None


def test_the_course_read_in_one_statement_is_the_orms_with_its_relations_cached(world):
    course = paid_course(world.school_a, capacity=3)
    orm = Offering.objects.select_related("plan__term", "site", "school__fee_rule").get(
        pk=course.pk
    )
    with CaptureQueriesContext(connection) as ctx:
        read = svc._offering_for_enrolment(course.pk)
        # every relation the enrolment uses is there: no query
        pairs = [
            (read, orm),
            (read.plan, orm.plan),
            (read.plan.term, orm.plan.term),
            (read.school, orm.school),
            (read.school.fee_rule, orm.school.fee_rule),
        ]
        assert read.site is None and fees.rule_of(read) == orm.school.fee_rule
    assert len(ctx.captured_queries) == 1, ctx.captured_queries
    for mine, theirs in pairs:
        assert type(mine) is type(theirs) and columns(mine) == columns(theirs)
        assert not mine._state.adding and mine._state.db == "default"
    assert isinstance(read.fee_per_lesson, Decimal) and read.grades == [3]
    assert read.own_version and read.related_version


def test_a_course_that_does_not_exist_is_refused_as_before(world):
    with pytest.raises(Offering.DoesNotExist):
        svc._offering_for_enrolment(0)


def test_a_school_without_a_fee_rule_reads_none_cached(world):
    course = paid_course(world.school_a, capacity=3)
    FeeRule.objects.filter(school=world.school_a).delete()
    read = svc._offering_for_enrolment(course.pk)
    with CaptureQueriesContext(connection) as ctx:
        rule = fees.rule_of(read)
    assert ctx.captured_queries == [] and rule.pk is None  # the defaults, no query


def test_the_child_read_in_one_statement_is_the_parents_own_only(world):
    course = paid_course(world.school_a, capacity=3)
    child = svc._child_for(world.parent_a, world.child_a.pk, course.pk)
    assert columns(child) == columns(world.child_a)
    with CaptureQueriesContext(connection) as ctx:
        assert child.school_class.grade == 3 and child.school.pk == world.school_a.pk
    assert ctx.captured_queries == []
    assert child.live_id is None and child.holds_places is False
    # another family's child: refused as before
    with pytest.raises(svc.PermissionDenied):
        svc._child_for(world.parent_a, world.child_b.pk, course.pk)


# --- the fingerprints ---------------------------------------------------------------------


def test_nothing_changed_the_course_is_read_once(world):
    course = paid_course(world.school_a, capacity=1)
    with CaptureQueriesContext(connection) as ctx:
        e = enrol(world.parent_a, world.child_a, course)
    reads = offering_reads(ctx.captured_queries)
    # before the lock, with its rows; the lock (its fingerprint only)
    assert len(reads) == 2 and "FOR UPDATE" in reads[1], reads
    assert e.status == Enrolment.Status.ENROLLED


def changed_before_the_lock(monkeypatch, change):
    """Run ``change`` in the enrolment's transaction just before it takes the course's lock
    (as another transaction that committed meanwhile would have)."""
    original = svc._lock_offering

    def lock(offering_id, *, lock=True):
        change(offering_id)
        return original(offering_id, lock=lock)

    monkeypatch.setattr(svc, "_lock_offering", lock)


def test_a_course_whose_places_were_cut_before_the_lock_is_read_again(world, monkeypatch):
    course = paid_course(world.school_a, capacity=1)
    changed_before_the_lock(
        monkeypatch, lambda pk: Offering.objects.filter(pk=pk).update(capacity=0)
    )
    with CaptureQueriesContext(connection) as ctx:
        e = enrol(world.parent_a, world.child_a, course)
    # the place decided on the capacity under the lock: none left
    assert e.status == Enrolment.Status.WAITING and e.position == 1
    assert len(offering_reads(ctx.captured_queries)) == 4  # + the update, + read again


def test_a_course_unchanged_but_its_term_closed_before_the_lock_is_refused(world, monkeypatch):
    course = paid_course(world.school_a, capacity=1)
    term_id = course.plan.term_id
    changed_before_the_lock(
        monkeypatch,
        lambda pk: SchoolPeriod.objects.filter(pk=term_id).update(
            status=SchoolPeriod.Status.CLOSED
        ),
    )
    with pytest.raises(ValidationError, match="已结束"):
        enrol(world.parent_a, world.child_a, course)
    assert not Enrolment.objects.filter(offering=course).exists()


def test_a_fee_rule_changed_before_the_lock_bills_by_the_new_rule(world, monkeypatch):
    course = paid_course(world.school_a, capacity=1)
    changed_before_the_lock(
        monkeypatch, lambda pk: FeeRule.objects.filter(school=world.school_a).update(due_days=30)
    )
    e = enrol(world.parent_a, world.child_a, course)
    assert (e.bill.due_on - timezone.localdate()).days >= 30


# --- the bill's reads of a term -----------------------------------------------------------


def test_the_fixed_bill_reads_count_what_the_querysets_count(world):
    course = paid_course(world.school_a, capacity=3, weeks=(0, 1, 2, 3))
    Lesson.objects.filter(pk=course.lessons.order_by("date").last().pk).update(
        status=Lesson.Status.CANCELLED
    )
    term = course.plan.term
    today = timezone.localdate()
    for waiver in (None, 40):
        if waiver:
            Waiver.objects.create(
                child=world.child_a, term=term, percent=waiver, reason="低保", by=world.principal_a
            )
        columns_, params, key = fees.place_bill_reads(course, world.child_a.pk, today)
        assert columns_ is fees._TERM_BILL_READS
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(sql for _n, sql in columns_), params)
            lessons, percent = cursor.fetchone()
        span = key[0]
        assert lessons == fees._billed_lessons(course.pk, *span) == 3  # the cancelled not
        found = fees.waiver_for(world.child_a.pk, term)
        assert percent == (found.percent if found else None) == waiver


# --- a row and its audit row in one statement ---------------------------------------------


def test_create_audited_writes_what_save_and_audit_record_wrote(world):
    course = paid_course(world.school_a, capacity=3)
    user_b, child_b = world.parent_a, world.child_a
    with transaction.atomic():
        one = create_audited(
            Enrolment(offering=course, child=child_b, status="waiting", by=user_b),
            actor=user_b,
            action="afterschool.enrolment.waiting",
            new={"offering": course.pk, "amount": Decimal("1.50")},
        )
    assert one.pk and not one._state.adding
    stored = Enrolment.objects.get(pk=one.pk)
    assert columns(stored) == columns(one)  # the timestamps auto_now set, as save() does
    audit = AuditLog.objects.get(object_id=str(one.pk))
    with transaction.atomic():
        other = audit_record(
            actor=user_b,
            action="afterschool.enrolment.waiting",
            obj=one,
            new={"offering": course.pk, "amount": Decimal("1.50")},
        )
    same = ("actor_id", "actor_repr", "action", "content_type_id", "object_id", "object_repr",
            "old", "new")  # fmt: skip
    assert model_to_dict(audit, fields=same) == model_to_dict(other, fields=same)
    with pytest.raises(RuntimeError):  # outside a transaction: refused, as audit_record
        create_audited(Bill(), actor=None, action="afterschool.bill.issued")


def test_a_model_with_save_signals_is_saved_the_ordinary_way(world):
    course = paid_course(world.school_a, capacity=3)
    heard = []

    def receiver(sender, instance, created, **kwargs):
        heard.append((instance.pk, created))

    post_save.connect(receiver, sender=Enrolment, dispatch_uid="test-enrol-fast-path")
    try:
        with transaction.atomic():
            e = create_audited(
                Enrolment(
                    offering=course, child=world.child_a, status="waiting", by=world.parent_a
                ),
                actor=None,
                action="afterschool.enrolment.waiting",
            )
    finally:
        post_save.disconnect(sender=Enrolment, dispatch_uid="test-enrol-fast-path")
    assert heard == [(e.pk, True)]
    assert AuditLog.objects.filter(object_id=str(e.pk), actor_repr="system").count() == 1
