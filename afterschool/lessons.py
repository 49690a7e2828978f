"""Lessons and their roll-call: generation from the weekly pattern, teacher sign-in and
sign-out, the roll-call that marks a lesson held, and corrections that keep the history.

Lock order: the lesson row, then its attendance rows. Fee refunds read the marks
(afterschool.fees), so a correction of a lesson already settled is refused there.
"""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from afterschool.models import Attendance, AttendanceChange, Enrolment, Lesson, Offering
from portal.access import BUREAU, SCHOOL, kind_of
from portal.audit import audit_record
from portal.models import SchoolStaff
from portal.schoolcalendar import CalendarUnknownDay, missing_years, school_days

Mark = Attendance.Mark


def lessons_generate(offering: Offering) -> tuple[int, str]:
    """Create the offering's lessons on its weekday within its plan's term, on the school
    days of the calendar. Idempotent. Days of a year the calendar does not know yet are left
    for a later run (the nightly sweep calls this again); returns (lessons created, note)."""
    term = offering.plan.term
    district = offering.school.district
    years = list(range(term.start.year, term.end.year + 1))
    unknown = set(missing_years(years))
    note = ""
    days = []
    for year in years:
        if year in unknown:
            note = f"日历中还没有 {year} 年的节假日安排，该年的课次待录入后生成。"
            continue
        lo, hi = max(term.start, dt.date(year, 1, 1)), min(term.end, dt.date(year, 12, 31))
        try:
            days += [d for d in school_days(district, lo, hi) if d.weekday() == offering.weekday]
        except CalendarUnknownDay as exc:
            note = str(exc)
    existing = set(offering.lessons.values_list("date", flat=True))
    new = [Lesson(offering=offering, date=d) for d in days if d not in existing]
    Lesson.objects.bulk_create(new, ignore_conflicts=True)
    return len(new), note


def may_take_roll(user, lesson: Lesson) -> bool:
    """The course's teacher, the school's principal or 教导处 (not another teacher)."""
    if kind_of(user) != SCHOOL:
        return False
    staff = user.school_staff
    if staff.school_id != lesson.offering.school_id:
        return False
    return lesson.offering.teacher_id == staff.pk or staff.role in {
        SchoolStaff.Role.PRINCIPAL,
        SchoolStaff.Role.ACADEMIC,
    }


def may_correct(user, lesson: Lesson) -> bool:
    """Corrections after the day: the principal or 教导处 (or bureau staff)."""
    if kind_of(user) == BUREAU:
        return True
    if kind_of(user) != SCHOOL:
        return False
    staff = user.school_staff
    return staff.school_id == lesson.offering.school_id and staff.role in {
        SchoolStaff.Role.PRINCIPAL,
        SchoolStaff.Role.ACADEMIC,
    }


def roll_children(lesson: Lesson):
    """Who is on the roll: the children enrolled in the course (not the waiting list)."""
    return (
        Enrolment.objects.filter(offering_id=lesson.offering_id, status=Enrolment.Status.ENROLLED)
        .select_related("child__school_class")
        .order_by("child__name", "child_id")
    )


def roll_open(lesson: Lesson, today=None) -> bool:
    """The roll-call can be taken on the day, or later while it has never been taken."""
    today = today or timezone.localdate()
    if lesson.status == Lesson.Status.CANCELLED or lesson.date > today:
        return False
    return lesson.date == today or lesson.roll_submitted_at is None


def _locked(lesson_id: int) -> Lesson:
    return (
        Lesson.objects.select_for_update(of=("self",)).select_related("offering").get(pk=lesson_id)
    )


def teacher_sign(*, user, lesson_id: int, out: bool = False, now=None) -> Lesson:
    """签到 / 签离 of the teacher; the second press changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        lesson = _locked(lesson_id)
        if not may_take_roll(user, lesson):
            raise PermissionDenied
        if lesson.status == Lesson.Status.CANCELLED:
            raise ValidationError("该课次已取消。")
        if lesson.date != timezone.localdate(now):
            raise ValidationError("只能在上课当天签到、签离。")
        field = "teacher_out_at" if out else "teacher_in_at"
        if out and lesson.teacher_in_at is None:
            raise ValidationError("请先签到，再签离。")
        if getattr(lesson, field) is None:
            setattr(lesson, field, now)
            lesson.save(update_fields=[field])
            audit_record(
                actor=user, action=f"afterschool.lesson.{'out' if out else 'in'}", obj=lesson
            )
    return lesson


def roll_submit(*, user, lesson_id: int, marks: dict[int, str], today=None) -> Lesson:
    """The roll-call of the day: a mark for every child on the roll, no one else. Marks the
    lesson held. Submitting again on the day changes the marks that differ, each change kept
    (AttendanceChange); after the day only a correction (``attendance_correct``) may."""
    today = today or timezone.localdate()
    with transaction.atomic():
        lesson = _locked(lesson_id)
        if not may_take_roll(user, lesson):
            raise PermissionDenied
        if lesson.status == Lesson.Status.CANCELLED:
            raise ValidationError("该课次已取消，无需点名。")
        if lesson.date > today:
            raise ValidationError(f"点名从上课当天开始（{lesson.date}）。")
        if lesson.date < today and lesson.roll_submitted_at is not None:
            raise ValidationError("上课日之后的修改请走考勤更正，并说明原因。")
        on_roll = {e.child_id for e in roll_children(lesson)}
        missing = on_roll - set(marks)
        extra = set(marks) - on_roll
        if missing or extra:
            raise ValidationError("点名名单与已报名的学生不一致，请刷新后重新点名。")
        bad = [cid for cid, m in marks.items() if m not in Mark.values]
        if bad:
            raise ValidationError("请为每位学生选择出勤、缺勤或请假。")
        existing = {a.child_id: a for a in lesson.attendance.select_for_update()}
        for child_id, mark in sorted(marks.items()):
            row = existing.get(child_id)
            if row is None:
                Attendance.objects.create(
                    lesson=lesson, child_id=child_id, mark=mark, recorded_by=user
                )
            elif row.mark != mark:
                AttendanceChange.objects.create(attendance=row, old=row.mark, new=mark, by=user)
                row.mark = mark
                row.save(update_fields=["mark"])
        was = lesson.status
        lesson.status = Lesson.Status.HELD
        lesson.roll_submitted_at = timezone.now()
        lesson.roll_by = user
        lesson.save(update_fields=["status", "roll_submitted_at", "roll_by"])
        counts = {m: sum(1 for v in marks.values() if v == m) for m in Mark.values}
        audit_record(
            actor=user,
            action="afterschool.lesson.roll",
            obj=lesson,
            old={"status": was},
            new=counts,
        )
    return lesson


def attendance_correct(*, user, attendance_id: int, mark: str, reason: str) -> Attendance:
    """A correction after the roll-call, with a reason; the old and new marks are kept."""
    reason = (reason or "").strip()
    if mark not in Mark.values:
        raise ValidationError({"mark": "请选择出勤、缺勤或请假。"})
    if not reason:
        raise ValidationError({"reason": "更正考勤必须说明原因。"})
    with transaction.atomic():
        lesson_id = Attendance.objects.values_list("lesson_id", flat=True).get(pk=attendance_id)
        lesson = _locked(lesson_id)
        if not may_correct(user, lesson):
            raise PermissionDenied
        from afterschool.models import Settlement

        if Settlement.objects.filter(
            school_id=lesson.offering.school_id, term_id=lesson.offering.plan.term_id
        ).exists():
            raise ValidationError("本学期已结算，考勤不能再更正。")
        row = Attendance.objects.select_for_update().get(pk=attendance_id)
        if row.mark == mark:
            return row
        AttendanceChange.objects.create(
            attendance=row, old=row.mark, new=mark, reason=reason, by=user
        )
        audit_record(
            actor=user,
            action="afterschool.attendance.corrected",
            obj=row,
            old={"mark": row.mark},
            new={"mark": mark, "reason": reason},
        )
        row.mark = mark
        row.save(update_fields=["mark"])
    return row


def lesson_cancel(*, user, lesson_id: int, reason: str) -> Lesson:
    """A lesson not held (weather, school closed): its fee is refunded under every rule."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "取消课次必须说明原因。"})
    with transaction.atomic():
        lesson = _locked(lesson_id)
        if not may_correct(user, lesson):
            raise PermissionDenied
        if lesson.status == Lesson.Status.CANCELLED:
            return lesson
        if lesson.status == Lesson.Status.HELD:
            raise ValidationError("该课次已点名上课，不能取消。")
        lesson.status = Lesson.Status.CANCELLED
        lesson.cancel_reason = reason
        lesson.save(update_fields=["status", "cancel_reason"])
        audit_record(
            actor=user, action="afterschool.lesson.cancelled", obj=lesson, new={"reason": reason}
        )
    return lesson
