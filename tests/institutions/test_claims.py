"""消课 claims and the parent's answers (institutions/claims.py): each rule at its boundary
and with its refusal; the batch all-or-nothing; confirmation releasing; dispute holding."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from institutions import claims, escrow
from institutions.claim_models import LessonClaim
from institutions.complaint_models import Complaint
from institutions.escrow_models import Purchase, ReleaseKind, ReleaseRule
from portal.models import AuditLog, Notice
from tests.institutions.claim_helpers import (
    DAY,
    bureau_training,
    institution_with_staff,
    paid_purchase,
)

T = dt.time
S = LessonClaim.Status
TODAY = dt.date(2026, 4, 10)


@pytest.fixture(autouse=True)
def _ledger_sound(ledger_checked):
    yield


@pytest.fixture
def inst_staff(db):
    return institution_with_staff()


@pytest.fixture
def parent(world):
    return world.parent_a.parent


SIX, SIX45 = T(18, 0), T(18, 45)


def claim(staff, purchases, *, day=DAY, start=SIX, end=SIX45, lessons=1, **kw):
    return claims.claim_record(
        actor=staff, course_id=purchases[0].course_id, purchase_ids=[p.pk for p in purchases],
        date=day, start=start, end=end, lessons=lessons, today=kw.pop("today", TODAY), **kw,
    )  # fmt: skip


def messages_of(exc) -> str:
    return " ".join(exc.value.messages)


# --- claiming -----------------------------------------------------------------------------


def test_a_claim_raises_the_consumed_lessons_and_tells_the_parent(inst_staff, parent):
    inst, staff = inst_staff
    p = paid_purchase(inst, parent)
    [c] = claim(staff, [p], lessons=2)
    p.refresh_from_db()
    assert (p.lessons_consumed, p.lessons_confirmed) == (2, 0)
    assert c.status == S.PENDING and c.claimed_by == staff
    assert AuditLog.objects.filter(action="institutions.claim.recorded").count() == 1
    assert AuditLog.objects.filter(action="institutions.escrow.lessons_consumed").count() == 1


def test_one_form_claims_a_lesson_for_several_buyers(inst_staff, parent, world):
    inst, staff = inst_staff
    a, b = paid_purchase(inst, parent), paid_purchase(inst)
    assert len(claim(staff, [a, b])) == 2
    assert sorted(Purchase.objects.values_list("lessons_consumed", flat=True)) == [1, 1]


def test_the_last_bought_lesson_may_be_claimed_but_not_one_more(inst_staff):
    inst, staff = inst_staff
    p = paid_purchase(inst, lessons=3)
    claim(staff, [p], lessons=2)
    claim(staff, [p], day=DAY + dt.timedelta(days=1))  # 3 of 3: the boundary
    with pytest.raises(ValidationError) as exc:
        claim(staff, [p], day=DAY + dt.timedelta(days=2))
    assert "剩余0课时，不能再消1课时" in messages_of(exc)
    p.refresh_from_db()
    assert p.lessons_consumed == 3


def test_a_batch_with_one_refused_buyer_writes_nothing(inst_staff):
    inst, staff = inst_staff
    ok, full = paid_purchase(inst), paid_purchase(inst, lessons=1)
    claim(staff, [full])
    with pytest.raises(ValidationError) as exc:
        claim(staff, [ok, full], day=DAY + dt.timedelta(days=1))
    assert "剩余0课时" in messages_of(exc)
    assert LessonClaim.objects.filter(purchase=ok).count() == 0
    ok.refresh_from_db()
    assert ok.lessons_consumed == 0


def test_the_same_lesson_is_claimed_once_per_purchase(inst_staff):
    inst, staff = inst_staff
    p = paid_purchase(inst)
    claim(staff, [p])
    with pytest.raises(ValidationError) as exc:
        claim(staff, [p], end=T(19, 0))  # same date and start
    assert "不能重复消课" in messages_of(exc)
    claim(staff, [p], start=T(19, 0), end=T(19, 45))  # another lesson that day: fine
    assert LessonClaim.objects.filter(purchase=p).count() == 2


def _subject(inst):
    """The course becomes subject-type (数学), its district's spring term known."""
    from portal.models import SchoolPeriod

    SchoolPeriod.objects.create(district=inst.district, kind="term", name="春季学期",
                                start=dt.date(2026, 3, 2), end=dt.date(2026, 7, 3))  # fmt: skip
    inst.courses.update(subject="数学")
    return inst


def test_a_subject_lesson_ending_at_2030_may_be_claimed_but_not_one_ending_later(inst_staff):
    inst, staff = inst_staff
    p = paid_purchase(_subject(inst))
    claim(staff, [p], start=T(19, 45), end=T(20, 30))
    with pytest.raises(ValidationError) as exc:
        claim(staff, [p], day=DAY + dt.timedelta(days=1), start=T(19, 50), end=T(20, 35))
    assert "20:30" in messages_of(exc)


def test_a_subject_lesson_on_a_rest_day_is_refused(db, parent):
    inst, staff = institution_with_staff()
    p = paid_purchase(_subject(inst), parent)
    saturday = dt.date(2026, 3, 7)
    with pytest.raises(ValidationError) as exc:
        claim(staff, [p], day=saturday)
    assert "休息日" in messages_of(exc)
    assert not LessonClaim.objects.exists()


def test_a_date_outside_the_purchase_or_in_the_future_is_refused(inst_staff):
    inst, staff = inst_staff
    p = paid_purchase(inst, starts_on=dt.date(2026, 3, 2), ends_on=dt.date(2026, 3, 31))
    claim(staff, [p], day=dt.date(2026, 3, 31))  # the last day of the period
    with pytest.raises(ValidationError) as exc:
        claim(staff, [p], day=dt.date(2026, 4, 1))
    assert "不在服务期内" in messages_of(exc)
    with pytest.raises(ValidationError) as exc:
        claim(staff, [p], day=TODAY + dt.timedelta(days=1))
    assert exc.value.message_dict["date"] == [
        f"上课日期 {TODAY + dt.timedelta(days=1)} 晚于今天，课上完后才能消课。"
    ]
    claim(staff, [p], day=dt.date(2026, 3, 30), today=dt.date(2026, 3, 30))  # today: fine


def test_a_purchase_not_active_is_refused(inst_staff):
    inst, staff = inst_staff
    p = paid_purchase(inst)
    escrow.refund_unconsumed(actor=bureau_training("refunder"), purchase_id=p.pk, reason="退")
    with pytest.raises(ValidationError) as exc:
        claim(staff, [p])
    assert "不能消课" in messages_of(exc)


def test_another_institutions_purchase_or_course_is_refused(inst_staff):
    inst, staff = inst_staff
    other, _other_staff = institution_with_staff(name="别家培训学校")
    theirs = paid_purchase(other)
    with pytest.raises(PermissionDenied):
        claim(staff, [theirs])
    mine = paid_purchase(inst)
    with pytest.raises(PermissionDenied):
        claims.claim_record(actor=staff, course_id=mine.course_id,
                            purchase_ids=[mine.pk, theirs.pk], date=DAY, start=T(18, 0),
                            end=T(18, 45), today=TODAY)  # fmt: skip
    assert not LessonClaim.objects.exists()


def test_finance_staff_and_parents_may_not_claim(inst_staff, world):
    inst, _staff = inst_staff
    _i, finance = institution_with_staff(role="finance")
    p = paid_purchase(inst)
    for user in (finance, world.parent_a, bureau_training("b2")):
        with pytest.raises(PermissionDenied):
            claim(user, [p])


def test_a_claim_without_buyers_or_with_end_before_start_names_the_field(inst_staff):
    inst, staff = inst_staff
    p = paid_purchase(inst)
    with pytest.raises(ValidationError) as exc:
        claims.claim_record(actor=staff, course_id=p.course_id, purchase_ids=[], date=DAY,
                            start=T(18, 0), end=T(17, 0), today=TODAY)  # fmt: skip
    assert set(exc.value.message_dict) == {"purchases", "end"}


# --- the parent's answers -----------------------------------------------------------------


def test_a_confirmation_raises_confirmed_lessons_and_releases_per_lesson(inst_staff, parent):
    inst, staff = inst_staff
    p = paid_purchase(inst, parent, amount="1000.00", lessons=10)
    [c] = claim(staff, [p], lessons=2)
    claims.claim_confirm(actor=parent.user, claim_id=c.pk)
    p.refresh_from_db()
    c.refresh_from_db()
    assert p.lessons_confirmed == 2 and c.status == S.CONFIRMED and c.answered_by == parent.user
    assert escrow.purchase_sums(p).released == Decimal("200.00")
    # confirming again changes nothing
    claims.claim_confirm(actor=parent.user, claim_id=c.pk)
    assert escrow.purchase_sums(p).released == Decimal("200.00")


def test_someone_elses_parent_may_not_confirm(inst_staff, parent):
    from tests.institutions.claim_helpers import stranger_parent

    inst, staff = inst_staff
    [c] = claim(staff, [paid_purchase(inst, parent)])
    with pytest.raises(PermissionDenied):
        claims.claim_confirm(actor=stranger_parent().user, claim_id=c.pk)
    with pytest.raises(PermissionDenied):
        claims.claim_confirm(actor=staff, claim_id=c.pk)
    c.refresh_from_db()
    assert c.status == S.PENDING


def test_a_dispute_holds_the_release_and_tells_the_training_staff(
    inst_staff, parent, django_capture_on_commit_callbacks
):
    inst, staff = inst_staff
    watcher = bureau_training("watcher")
    p = paid_purchase(inst, parent)
    (c1,) = claim(staff, [p])
    (c2,) = claim(staff, [p], day=DAY + dt.timedelta(days=1))
    with pytest.raises(ValidationError) as exc:
        claims.claim_dispute(actor=parent.user, claim_id=c1.pk, reason="  ")
    assert "reason" in exc.value.message_dict
    with django_capture_on_commit_callbacks(execute=True):
        claims.claim_dispute(actor=parent.user, claim_id=c1.pk, reason="那天没上课")
    p.refresh_from_db()
    assert p.dispute_open and "那天没上课" in p.dispute_reason
    assert Notice.objects.filter(user=watcher, key=f"claim:{c1.pk}:disputed").exists()
    # the other lesson confirmed: counted, but nothing released while the dispute is open
    claims.claim_confirm(actor=parent.user, claim_id=c2.pk)
    p.refresh_from_db()
    assert p.lessons_confirmed == 1 and escrow.purchase_sums(p).released == 0
    # a disputed claim cannot then be confirmed
    with pytest.raises(ValidationError):
        claims.claim_confirm(actor=parent.user, claim_id=c1.pk)
    assert not Complaint.objects.exists()


def test_a_dispute_may_file_a_complaint_too(inst_staff, parent):
    inst, staff = inst_staff
    [c] = claim(staff, [paid_purchase(inst, parent)])
    _c, code = claims.claim_dispute(
        actor=parent.user, claim_id=c.pk, reason="老师没来", complain=True
    )
    complaint = Complaint.objects.get()
    assert code and complaint.category == Complaint.Category.FEES
    assert complaint.institution == inst and complaint.parent == parent
    assert "老师没来" in complaint.text


# --- the nightly sweep --------------------------------------------------------------------


def _age(claim_obj, days_ago_from, day):
    from django.utils import timezone

    at = timezone.make_aware(dt.datetime.combine(day, dt.time(21, 0)))
    LessonClaim.objects.filter(pk=claim_obj.pk).update(claimed_at=at)


def test_an_unanswered_claim_counts_as_confirmed_the_night_after_its_last_day(
    inst_staff, parent, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_CLAIM_CONFIRM_DAYS = 3
    inst, staff = inst_staff
    p = paid_purchase(inst, parent, amount="1000.00", lessons=10)
    [c] = claim(staff, [p])
    _age(c, 0, dt.date(2026, 4, 1))  # claimed on 04-01: the parent has until 04-04
    assert claims.answer_by(LessonClaim.objects.get(pk=c.pk)) == dt.date(2026, 4, 4)
    assert claims.auto_confirm_due(today=dt.date(2026, 4, 4)) == 0
    c.refresh_from_db()
    assert c.status == S.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        assert claims.auto_confirm_due(today=dt.date(2026, 4, 5)) == 1
    c.refresh_from_db()
    p.refresh_from_db()
    assert c.status == S.AUTO_CONFIRMED and c.get_status_display() == "逾期自动确认"
    assert p.lessons_confirmed == 1
    assert escrow.purchase_sums(p).released == Decimal("100.00")
    assert Notice.objects.filter(
        user=parent.user, message__contains="逾期未确认，视为确认"
    ).exists()
    # a rerun confirms and releases nothing twice
    assert claims.auto_confirm_due(today=dt.date(2026, 4, 6)) == 0
    assert escrow.purchase_sums(p).released == Decimal("100.00")


def test_the_sweep_follows_each_release_rule_and_holds_disputed_purchases(inst_staff, parent):
    inst, staff = inst_staff
    per_lesson = paid_purchase(inst, parent, amount="900.00", lessons=3)
    ReleaseRule.objects.create(institution=inst, kind=ReleaseKind.TRANCHES)
    tranches = paid_purchase(inst, amount="900.00", lessons=3)
    disputed = paid_purchase(inst, parent, amount="900.00", lessons=3)
    ReleaseRule.objects.filter(institution=inst).update(kind=ReleaseKind.DELAY, delay_days=0)
    delay = paid_purchase(inst, amount="900.00", lessons=1)
    made = claim(staff, [per_lesson, tranches, disputed, delay])
    (extra,) = claim(staff, [disputed], day=DAY + dt.timedelta(days=1))
    claims.claim_dispute(actor=parent.user, claim_id=extra.pk, reason="没上")
    for c in made:
        _age(c, 0, dt.date(2026, 4, 1))
    assert claims.auto_confirm_due(today=dt.date(2026, 4, 10)) == 4
    released = {p.pk: escrow.purchase_sums(p).released
                for p in (per_lesson, tranches, disputed, delay)}  # fmt: skip
    assert released == {
        per_lesson.pk: Decimal("300.00"),  # one of three lessons
        tranches.pk: Decimal("270.00"),  # 1/3 reached: tranche 1 = 30 %
        disputed.pk: Decimal("0.00"),  # the dispute holds it
        delay.pk: Decimal("900.00"),  # completed today, 0 days' delay
    }
    for p in (per_lesson, tranches, disputed, delay):
        p.refresh_from_db()
        assert escrow.release_due(p, dt.date(2026, 4, 10)) >= escrow.purchase_sums(p).released
    delay.refresh_from_db()
    assert delay.completed_on == dt.date(2026, 4, 10)
    audit = AuditLog.objects.get(action="institutions.claim.auto_confirmed")
    assert audit.new["claims"] == 4


def test_the_sweep_in_small_chunks_gives_the_same_result(inst_staff, parent):
    inst, staff = inst_staff
    ps = [paid_purchase(inst, amount="500.00", lessons=5) for _ in range(5)]
    for c in claim(staff, ps):
        _age(c, 0, dt.date(2026, 4, 1))
    assert claims.auto_confirm_due(today=dt.date(2026, 4, 10), chunk=2) == 5
    assert [escrow.purchase_sums(p).released for p in ps] == [Decimal("100.00")] * 5
    assert AuditLog.objects.filter(action="institutions.claim.auto_confirmed").count() == 3


def test_the_nightly_task_runs_the_sweep(inst_staff, parent):
    from institutions.tasks import escrow_release_due

    inst, staff = inst_staff
    [c] = claim(staff, [paid_purchase(inst, parent)])
    _age(c, 0, dt.date(2026, 4, 1))
    escrow_release_due("2026-04-10")
    c.refresh_from_db()
    assert c.status == S.AUTO_CONFIRMED
