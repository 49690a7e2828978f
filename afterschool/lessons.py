"""Lessons and their roll-call: generation from the weekly pattern on the days the school is
open, teacher sign-in and sign-out, the roll-call that completes a lesson and locks it, and
corrections approved by school staff that keep the old and new marks forever.

Lock order: School (days closed, reschedules, publishing), then the Lesson row, then its
attendance rows. Times are the school's local time (Asia/Shanghai).
"""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from afterschool.models import (
    Attendance,
    AttendanceChange,
    ClosedDay,
    CorrectionRequest,
    Enrolment,
    LeaveRequest,
    Lesson,
    Offering,
    Rating,
    SchoolPlan,
    Settlement,
    TermSurvey,
)
from portal.access import PARENT, SCHOOL, kind_of
from portal.audit import audit_record
from portal.locks import locked
from portal.models import CalendarDay, Child, SchoolPeriod, SchoolStaff
from portal.permissions import is_bureau, is_school_manager, is_site_operator, require
from portal.schoolcalendar import CalendarUnknownDay, missing_years, school_days

Mark = Attendance.Mark
MANAGERS = SchoolStaff.MANAGER_ROLES


def local_now(now=None) -> dt.datetime:
    return timezone.localtime(now or timezone.now())


def starts_at(lesson: Lesson) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(lesson.date, lesson.start))


def open_days(
    school, start: dt.date, end: dt.date, *, vacation: bool = False
) -> tuple[list[dt.date], str]:
    """The school's open days from ``start`` to ``end``: the calendar's school days less the
    days the school closed. Days of a year the calendar does not know are left out, with a
    note saying so. ``vacation``: the days of holiday care instead (a vacation day is no
    school day): the weekdays of the district's vacations that are not statutory holidays."""
    note = ""
    days = []
    unknown = set(missing_years(range(start.year, end.year + 1)))
    for year in range(start.year, end.year + 1):
        if year in unknown:
            note = f"日历中还没有 {year} 年的节假日安排，该年的课次待录入后生成。"
            continue
        lo, hi = max(start, dt.date(year, 1, 1)), min(end, dt.date(year, 12, 31))
        try:
            days += (vacation_days if vacation else school_days)(school.district, lo, hi)
        except CalendarUnknownDay as exc:
            note = str(exc)
    closed = set(
        ClosedDay.objects.filter(school=school, date__range=(start, end)).values_list(
            "date", flat=True
        )
    )
    return [d for d in days if d not in closed], note


def vacation_days(district, start: dt.date, end: dt.date) -> list[dt.date]:
    """The days holiday care may run from ``start`` to ``end``: in a winter or summer vacation
    of ``district``, Monday to Friday, not a statutory holiday (a make-up Saturday is no
    care day: pupils are not at school). CalendarUnknownDay for a year the calendar lacks."""
    if missing_years(range(start.year, end.year + 1)):
        raise CalendarUnknownDay(f"日历中还没有 {start.year} 年的节假日安排。")
    holidays = set(
        CalendarDay.objects.filter(
            date__range=(start, end), kind=CalendarDay.Kind.HOLIDAY
        ).values_list("date", flat=True)
    )
    spans = list(
        SchoolPeriod.objects.filter(district=district, start__lte=end, end__gte=start)
        .exclude(kind=SchoolPeriod.Kind.TERM)
        .values_list("start", "end")
    )
    out, day = [], start
    while day <= end:
        if day.weekday() < 5 and day not in holidays and any(lo <= day <= hi for lo, hi in spans):
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def is_open(school, day: dt.date, *, vacation: bool = False) -> bool:
    days, _note = open_days(school, day, day, vacation=vacation)
    return day in days


def term_plan_problem(offering: Offering) -> str | None:
    """Why the term (or vacation) and plan above a course keep it shut (enrolment,
    switching, publishing, generating lessons), in Chinese; None when its period is active
    and the school's plan is in effect for it. The menu and an attempt give the same words;
    for a vacation they speak of 假期托管 and name the school whose plan it is (a host site
    serves other schools' pupils)."""
    if offering.site_id is not None:
        from afterschool.sites import open_problem  # the site's own gate (safety check)

        problem = open_problem(offering.site)
        if problem:
            return problem
    plan = offering.plan
    term = plan.term
    if term.is_vacation:
        what, whose, opens = "假期托管方案", f"{offering.school.name}", "假期托管"
    else:
        what, whose, opens = "课后服务方案", "本校", "课程"
    if term.status == SchoolPeriod.Status.DRAFT:
        return f"{term.name}尚未启用，{opens}暂不开放报名。"
    if term.status != SchoolPeriod.Status.ACTIVE:
        return f"{term.name}已结束，{opens}不再开放报名。"
    if plan.status == SchoolPlan.Status.CLOSED:
        return f"{whose}{term.name}的{what}已结束，{opens}不再开放报名。"
    if plan.status != SchoolPlan.Status.IN_EFFECT:
        return (
            f"{whose}{term.name}的{what}{plan.get_status_display()}，尚未实施，"
            f"{opens}暂不开放报名。"
        )
    return None


def _holiday_days(offering: Offering):
    from afterschool.holiday_models import HostWeek

    week = HostWeek.objects.filter(offering=offering).select_related("host").first()
    return week.host.days if week else offering.plan.weekdays


# Kinds of care run on every day of a span (not one weekday a week): kind -> f(offering) ->
# the weekdays. A holiday week block runs on its host site's days; lunch care may register
# its own (its choice of days); any other such kind runs on its plan's days.
def _lunch_days(offering: Offering):
    """Lunch care makes its own lessons on the days its school offers (afterschool.lunch):
    generating again keeps to the weekdays those fall on, never the plan's other days."""
    days = {d.weekday() for d in offering.lessons.values_list("planned_date", flat=True)}
    return days or offering.plan.weekdays


BLOCK_WEEKDAYS: dict = {Offering.Kind.HOLIDAY: _holiday_days, Offering.Kind.LUNCH: _lunch_days}
BLOCK_KINDS = {Offering.Kind.HOLIDAY, Offering.Kind.LUNCH}


def course_weekdays(offering: Offering) -> set[int]:
    """The weekdays the course's lessons fall on: its weekday, or for a block kind
    (holiday week, month of lunch care) every day of its days."""
    if offering.kind not in BLOCK_KINDS:
        return {offering.weekday}
    days = BLOCK_WEEKDAYS.get(offering.kind)
    return set(days(offering) if days else offering.plan.weekdays)


def lessons_generate(offering: Offering) -> tuple[int, str]:
    """Create the offering's lessons on its weekday within its plan's term, on the school's
    open days; a block kind (a holiday week, a month of lunch care) on each of its days
    from ``starts_on`` to ``ends_on``, on the open days of the vacation (or term). Keyed by
    the planned day, so generating again adds nothing (a moved or cancelled lesson keeps its
    planned day; lunch care's own lessons are not doubled). Returns (lessons created, note);
    nothing while the term is not active or the plan not in effect (the note says why)."""
    problem = term_plan_problem(offering)
    if problem:
        return 0, problem
    term = offering.plan.term
    first = max(term.start, offering.starts_on or term.start)
    last = min(term.end, offering.ends_on or term.end)
    if first > term.end:
        return 0, "开课日期晚于学期结束。"
    days, note = open_days(offering.school, first, last, vacation=term.is_vacation)
    weekdays = course_weekdays(offering)
    existing = set(offering.lessons.values_list("planned_date", flat=True))
    new = [
        Lesson(
            offering=offering,
            planned_date=d,
            date=d,
            start=offering.start,
            end=offering.end,
            room_id=offering.room_id,
        )
        for d in days
        if d.weekday() in weekdays and d not in existing
    ]
    Lesson.objects.bulk_create(new, ignore_conflicts=True)
    return len(new), note


def is_manager(user, school_id) -> bool:
    """The principal or 教导处 of school ``school_id`` (portal.permissions' definition)."""
    return school_id is not None and is_school_manager(user, school_id)


def may_take_roll(user, lesson: Lesson) -> bool:
    """The course's teacher, the school's principal or 教导处 (not another teacher); at a
    community site, the site's operator."""
    if lesson.offering.site_id is not None and is_site_operator(user, lesson.offering.site_id):
        return True
    if kind_of(user) != SCHOOL:
        return False
    staff = user.school_staff
    if staff.school_id != lesson.offering.school_id:
        return False
    return lesson.offering.teacher_id == staff.pk or staff.role in MANAGERS


def may_correct(user, lesson: Lesson) -> bool:
    """Approving corrections: the principal or 教导处 (or bureau staff)."""
    return is_bureau(user) or is_manager(user, lesson.offering.school_id)


def roll_children(lesson: Lesson):
    """Who is on the roll: the children holding a place now (not the waiting list)."""
    return (
        Enrolment.objects.filter(offering_id=lesson.offering_id, status=Enrolment.Status.ENROLLED)
        .select_related("child__school_class")
        .order_by("child__name", "child_id")
    )


def approved_leave(lesson: Lesson) -> set[int]:
    return set(
        lesson.leaves.filter(status=LeaveRequest.Status.APPROVED).values_list("child_id", flat=True)
    )


def roll_open(lesson: Lesson, now=None) -> bool:
    """The roll-call opens when the lesson starts and closes when it is submitted."""
    return (
        lesson.status == Lesson.Status.SCHEDULED
        and lesson.roll_submitted_at is None
        and local_now(now) >= starts_at(lesson)
    )


def _locked(lesson_id: int) -> Lesson:
    return locked(Lesson.objects.select_related("offering__plan"), of=("self",)).get(pk=lesson_id)


def teacher_sign(*, user, lesson_id: int, out: bool = False, now=None) -> Lesson:
    """签到 / 签离 of the teacher on the lesson's day; the second press changes nothing."""
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


def roll_submit(*, user, lesson_id: int, marks: dict[int, str], now=None) -> Lesson:
    """The roll-call: from the lesson's start, a mark for exactly the children holding a
    place at that moment. Submitting completes the lesson and locks it; a later change is a
    correction (``correction_request``) that school staff approve."""
    with transaction.atomic():
        # lock order: the offering (whose places make the roll), then the lesson
        offering_id = Lesson.objects.values_list("offering_id", flat=True).get(pk=lesson_id)
        locked(Offering.objects.filter(pk=offering_id)).first()
        lesson = _locked(lesson_id)
        if not may_take_roll(user, lesson):
            raise PermissionDenied
        if lesson.status == Lesson.Status.CANCELLED:
            raise ValidationError("该课次已取消，无需点名。")
        if lesson.roll_submitted_at is not None:
            raise ValidationError("点名已提交并锁定；如需修改，请提交考勤更正，由学校审批。")
        if local_now(now) < starts_at(lesson):
            raise ValidationError(f"点名在上课开始后开放（{lesson.date} {lesson.start:%H:%M}）。")
        on_roll = {e.child_id for e in roll_children(lesson)}
        if set(marks) != on_roll:
            raise ValidationError("点名名单与已报名的学生不一致，请刷新后重新点名。")
        if any(m not in Mark.values for m in marks.values()):
            raise ValidationError("请为每位学生选择出勤、缺勤或请假。")
        Attendance.objects.bulk_create(
            [
                Attendance(lesson=lesson, child_id=c, mark=m, recorded_by=user)
                for c, m in sorted(marks.items())
            ]
        )
        lesson.status = Lesson.Status.HELD
        lesson.roll_submitted_at = timezone.now()
        lesson.roll_by = user
        lesson.save(update_fields=["status", "roll_submitted_at", "roll_by"])
        counts = {m: sum(1 for v in marks.values() if v == m) for m in Mark.values}
        _tell_parents_of_absence(lesson, [c for c, m in marks.items() if m == Mark.ABSENT])
        audit_record(
            actor=user,
            action="afterschool.lesson.roll",
            obj=lesson,
            old={"status": Lesson.Status.SCHEDULED},
            new=counts,
        )
    return lesson


def _tell_parents_of_absence(lesson: Lesson, child_ids):
    """The same day: each absent child's parents hear of it (on commit)."""
    from portal.notices import notify

    for child in Child.objects.filter(pk__in=child_ids).prefetch_related("parents"):
        notify(
            [p.user_id for p in child.parents.all()],
            key=f"absence:{lesson.pk}:{child.pk}",
            message=f"{child.name}今天未参加课后服务“{lesson.offering.name}”"
            f"（{lesson.start:%H:%M}），记为缺勤。如有疑问请联系老师。",
            url="/afterschool/attendance/",
        )


def _settled(lesson: Lesson) -> bool:
    return Settlement.objects.filter(
        school_id=lesson.offering.school_id, term_id=lesson.offering.plan.term_id
    ).exists()


def correction_request(*, user, attendance_id: int, mark: str, reason: str) -> CorrectionRequest:
    """The teacher (or school staff) asks to change a submitted mark, with a reason. Asked
    by the principal or 教导处, it is approved at once."""
    reason = (reason or "").strip()
    errors = {}
    if mark not in Mark.values:
        errors["mark"] = "请选择出勤、缺勤或请假。"
    if not reason:
        errors["reason"] = "更正考勤必须说明原因。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = Attendance.objects.select_related("lesson__offering__plan").get(pk=attendance_id)
        lesson = row.lesson
        if not may_take_roll(user, lesson) and not may_correct(user, lesson):
            raise PermissionDenied
        if _settled(lesson):
            raise ValidationError("本学期已结算，考勤不能再更正。")
        if row.mark == mark:
            raise ValidationError({"mark": "与原记录相同，无需更正。"})
        request = CorrectionRequest.objects.create(
            attendance=row, mark=mark, reason=reason, requested_by=user
        )
        audit_record(
            actor=user,
            action="afterschool.attendance.correction_requested",
            obj=row,
            new={"mark": mark, "reason": reason},
        )
        if may_correct(user, lesson):
            return correction_decide(user=user, request_id=request.pk, approve=True)
    return request


def correction_decide(*, user, request_id: int, approve: bool) -> CorrectionRequest:
    """School staff approve (the mark changes, AttendanceChange keeps both) or reject."""
    with transaction.atomic():
        request = locked(
            CorrectionRequest.objects.select_related("attendance__lesson__offering__plan"),
            of=("self",),
        ).get(pk=request_id)
        lesson = request.attendance.lesson
        if not may_correct(user, lesson):
            raise PermissionDenied
        if request.status != CorrectionRequest.Status.REQUESTED:
            return request
        if approve and _settled(lesson):
            raise ValidationError("本学期已结算，考勤不能再更正。")
        request.status = (
            CorrectionRequest.Status.APPROVED if approve else CorrectionRequest.Status.REJECTED
        )
        request.decided_by = user
        request.decided_at = timezone.now()
        request.save(update_fields=["status", "decided_by", "decided_at"])
        if approve:
            row = locked(Attendance.objects.filter(pk=request.attendance_id)).get()
            AttendanceChange.objects.create(
                attendance=row, old=row.mark, new=request.mark, reason=request.reason, by=user
            )
            audit_record(
                actor=user,
                action="afterschool.attendance.corrected",
                obj=row,
                old={"mark": row.mark},
                new={"mark": request.mark, "reason": request.reason},
            )
            row.mark = request.mark
            row.save(update_fields=["mark"])
        else:
            audit_record(
                actor=user,
                action="afterschool.attendance.correction_rejected",
                obj=request.attendance,
            )
    return request


def attendance_correct(*, user, attendance_id: int, mark: str, reason: str):
    """A correction by the principal or 教导处: asked and approved in one step."""
    row = Attendance.objects.select_related("lesson__offering").get(pk=attendance_id)
    if not may_correct(user, row.lesson):
        raise PermissionDenied
    correction_request(user=user, attendance_id=attendance_id, mark=mark, reason=reason)
    return Attendance.objects.get(pk=attendance_id)


def lesson_cancel(*, user, lesson_id: int, reason: str) -> Lesson:
    """A lesson not held (weather, an outing): its fee is refunded under every rule."""
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
        from afterschool.operations import tell_parents

        tell_parents(
            lesson,
            key=f"lesson:{lesson.pk}:cancelled",
            message=f"{lesson.offering.name} {lesson.date} 的课次取消：{reason}",
        )
    return lesson


# --- parents' ratings and term surveys ---------------------------------------------------------


def _violated(exc: IntegrityError) -> str | None:
    """The name of the constraint an insert broke (PostgreSQL tells), else None."""
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def rating_give(
    *, user, offering_id: int, stars, comment: str = "", child_id=None, today=None
) -> Rating:
    """A parent rates a course their child took, once it has ended; once per child and
    course (a parent of two children in it rates twice). ``child_id`` may be left out when
    one child only is left to rate it. Two submissions at once cannot both pass: the second
    meets the unique constraint (as_one_rating) and is told so, whatever the timing (no
    check-then-insert)."""
    from afterschool.selectors import ended_offerings, unrated_children

    require(kind_of(user) == PARENT)
    today = today or timezone.localdate()
    offering = ended_offerings(user, today).filter(pk=offering_id).first()
    require(offering is not None)
    took = Child.objects.filter(
        parents__user=user,
        enrolments__offering=offering,
        enrolments__status__in=[Enrolment.Status.ENROLLED, Enrolment.Status.COMPLETED],
    ).distinct()
    if child_id in (None, ""):
        left = list(unrated_children(user, offering.pk)[:2])
        if len(left) > 1:
            raise ValidationError({"child": "请选择为哪个孩子评价。"})
        child = left[0] if left else took.first()
    else:
        try:
            child = took.filter(pk=int(child_id)).first()
        except (TypeError, ValueError):
            child = None
        if child is None:
            raise ValidationError({"child": "请选择上过这门课程的孩子。"})
    try:
        stars = int(stars)
    except (TypeError, ValueError):
        stars = 0
    if not 1 <= stars <= 5:
        raise ValidationError({"stars": "请选择 1 至 5 星。"})
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                offering=offering,
                parent=user.parent,
                child=child,
                stars=stars,
                comment=(comment or "").strip()[:300],
            )
            audit_record(
                actor=user,
                action="afterschool.rating.given",
                obj=rating,
                new={"stars": stars, "comment": rating.comment},
            )
    except IntegrityError as exc:
        if _violated(exc) != "as_one_rating":
            raise
        raise ValidationError(
            f"您已评价过这门课程（{child.name}），每个孩子每门课程只能评价一次。"
        ) from None
    return rating


def survey_answer(
    *, user, school_id: int, term_id: int, answer: str, suggestion: str = "", today=None
) -> TermSurvey:
    """A parent answers the school's term survey (满意度调查) once per school and term; a
    second answer, even at the same moment, meets as_one_survey_answer and is told so."""
    from afterschool.selectors import survey_terms

    require(kind_of(user) == PARENT)
    today = today or timezone.localdate()
    pairs = {(s.pk, t.pk): (s, t) for s, t in survey_terms(user, today)}
    chosen = pairs.get((school_id, term_id))
    if chosen is None:
        raise ValidationError({"pair": "请选择学校和学期。"})
    if answer not in TermSurvey.Answer.values:
        raise ValidationError({"answer": "请选择总体满意度。"})
    try:
        with transaction.atomic():
            survey = TermSurvey.objects.create(
                school=chosen[0],
                term=chosen[1],
                parent=user.parent,
                answer=answer,
                suggestion=(suggestion or "").strip()[:500],
            )
            audit_record(
                actor=user,
                action="afterschool.survey.answered",
                obj=survey,
                new={"answer": answer, "suggestion": survey.suggestion},
            )
    except IntegrityError as exc:
        if _violated(exc) != "as_one_survey_answer":
            raise
        raise ValidationError("本学期已经填写过问卷。") from None
    return survey
