"""Roll-call for teachers (phone-sized), corrections, parents' view of attendance, ratings and
term surveys, and the bureau's participation and satisfaction rates per school."""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from afterschool import lessons as svc
from afterschool.models import (
    Attendance,
    AttendanceChange,
    CorrectionRequest,
    LeaveRequest,
    Lesson,
    LessonMove,
    Rating,
    Room,
    TermSurvey,
)
from afterschool.selectors import (
    ended_offerings,
    ratable_offerings,
    school_rates,
    survey_terms,
    unrated_children,
)
from portal import params
from portal.access import get_scoped_or_404, scope
from portal.permissions import PARENT, SCHOOL, bureau_required, is_school_manager, kind_required
from portal.views import messages_from


def with_status_labels(lessons, now=None) -> list[Lesson]:
    """Each lesson with ``status_label``, what its state means today: a lesson whose time is
    over but whose roll was never taken is still "scheduled" in the data (the roll stays
    open after the lesson), and read "待上课" two days later; it reads "已结束，未点名"."""
    now = svc.local_now(now)
    out = list(lessons)
    for lesson in out:
        ends_at = timezone.make_aware(dt.datetime.combine(lesson.date, lesson.end))
        if lesson.status == Lesson.Status.SCHEDULED and now >= ends_at:
            lesson.status_label = _("已结束，未点名")
        elif lesson.status == Lesson.Status.SCHEDULED and now >= svc.starts_at(lesson):
            lesson.status_label = _("上课中")
        else:
            lesson.status_label = lesson.get_status_display()
    return out


@kind_required(SCHOOL)
def lesson_list(request):
    """Today's lessons (and the last week's) of the teacher, or of the school for 教导处."""
    today = timezone.localdate()
    lessons = scope(Lesson.objects.all(), request.user).filter(
        date__range=(today - dt.timedelta(days=7), today)
    )
    if not is_school_manager(request.user):
        lessons = lessons.filter(offering__teacher=request.user.school_staff)
    lessons = with_status_labels(
        lessons.select_related("offering").order_by("-date", "offering__start")
    )
    return render(request, "afterschool/lessons.html", {"lessons": lessons, "today": today})


def _lesson_for(request, pk) -> Lesson:
    lesson = get_scoped_or_404(
        Lesson.objects.select_related("offering__school"), request.user, pk=pk
    )
    if not svc.may_take_roll(request.user, lesson) and not svc.may_correct(request.user, lesson):
        raise PermissionDenied
    return lesson


@kind_required(SCHOOL)
def roll_call(request, pk):
    """The lesson's page: teacher sign-in, the roll-call (from the start, once), leave to
    decide, corrections to ask or approve, and for school staff the reschedule."""
    lesson = _lesson_for(request, pk)
    roll = list(svc.roll_children(lesson))
    if request.method == "POST":
        action = request.POST.get("action", "roll")
        try:
            _act(request, lesson, roll, action)
            return redirect("afterschool:roll_call", pk=lesson.pk)
        except (Attendance.DoesNotExist, CorrectionRequest.DoesNotExist, LessonMove.DoesNotExist,
                LeaveRequest.DoesNotExist):  # fmt: skip
            messages.error(request, "没有这条记录，请刷新页面。")
        except ValidationError as exc:
            messages_from(request, exc)
        except PermissionDenied:
            messages.error(request, "只有校长或教导处可以办理。")
        except ValueError:
            messages.error(request, "请检查填写的日期和时间。")
    lesson.refresh_from_db()
    with_status_labels([lesson])
    marks = {a.child_id: a for a in lesson.attendance.all()}
    leaves = {lv.child_id: lv for lv in lesson.leaves.filter(status__in=LeaveRequest.ACTIVE)}
    typed = request.POST if request.method == "POST" else {}
    rows = [{"child": e.child, "attendance": marks.get(e.child_id), "leave": leaves.get(e.child_id),
             "typed": typed.get(f"mark_{e.child_id}")}
            for e in roll]  # fmt: skip
    for row in rows:
        leave = row["leave"]
        row["default"] = "leave" if leave and leave.status == LeaveRequest.Status.APPROVED else (
            "present")  # fmt: skip
    moves = list(lesson.moves.select_related("from_room", "to_room").order_by("at", "id"))
    latest = next((m for m in reversed(moves) if m.undone_at is None), None)
    manager = svc.may_correct(request.user, lesson)
    return render(request, "afterschool/roll_call.html", {
        "lesson": lesson, "rows": rows, "marks": Attendance.Mark.choices,
        "changes": AttendanceChange.objects.filter(attendance__lesson=lesson).select_related(
            "attendance__child", "by"),
        "corrections": CorrectionRequest.objects.filter(
            attendance__lesson=lesson, status=CorrectionRequest.Status.REQUESTED
        ).select_related("attendance__child"),
        "can_correct": manager, "can_roll": svc.may_take_roll(request.user, lesson)
        and svc.roll_open(lesson),
        "can_move": manager and lesson.status == Lesson.Status.SCHEDULED
        and svc.local_now() < svc.starts_at(lesson),
        "moves": moves, "latest_move": latest, "typed": typed,
        "rooms": Room.objects.filter(school_id=lesson.offering.school_id),
        "today": timezone.localdate(),
    })  # fmt: skip


def _act(request, lesson, roll, action):
    from afterschool import operations

    user, post = request.user, request.POST
    if action in {"in", "out"}:
        svc.teacher_sign(user=user, lesson_id=lesson.pk, out=action == "out")
        messages.success(request, "已签到。" if action == "in" else "已签离。")
    elif action == "correct":
        asked = svc.correction_request(
            user=user,
            attendance_id=int(post.get("attendance", 0)),
            mark=post.get("mark", ""),
            reason=post.get("reason", ""),
        )
        messages.success(request, "考勤已更正，原记录保留。" if asked.status == "approved"
                         else "更正申请已提交，等待校长或教导处审批。")  # fmt: skip
    elif action in {"approve_correction", "reject_correction"}:
        svc.correction_decide(user=user, request_id=int(post.get("request", 0)),
                              approve=action == "approve_correction")  # fmt: skip
        messages.success(request, "已处理更正申请。")
    elif action in {"approve_leave", "reject_leave"}:
        operations.leave_decide(user=user, leave_id=int(post.get("leave", 0)),
                                approve=action == "approve_leave")  # fmt: skip
        messages.success(request, "已处理请假申请。")
    elif action == "move":
        operations.lesson_move(
            user=user, lesson_id=lesson.pk, day=dt.date.fromisoformat(post.get("date", "")),
            start=dt.time.fromisoformat(post.get("start", "")),
            end=dt.time.fromisoformat(post.get("end", "")),
            room_id=int(post["room"]) if post.get("room") else None,
            reason=post.get("reason", ""),
        )  # fmt: skip
        messages.success(request, "已调课，并通知了已报名的家长。")
    elif action == "undo_move":
        operations.lesson_move_undo(user=user, move_id=int(post.get("move", 0)))
        messages.success(request, "已撤销最近一次调课。")
    else:
        marks = {e.child_id: post.get(f"mark_{e.child_id}", "") for e in roll}
        svc.roll_submit(user=user, lesson_id=lesson.pk, marks=marks)
        absent = sum(1 for m in marks.values() if m == Attendance.Mark.ABSENT)
        messages.success(request, f"点名已提交：{len(marks)} 人，缺勤 {absent} 人。")


@require_POST
@kind_required(SCHOOL)
def lesson_cancel(request, pk):
    lesson = _lesson_for(request, pk)
    try:
        svc.lesson_cancel(
            user=request.user, lesson_id=lesson.pk, reason=request.POST.get("reason", "")
        )
        messages.success(request, "课次已取消，费用将按规则退还。")
    except ValidationError as exc:
        messages_from(request, exc)
    except PermissionDenied:
        messages.error(request, "只有校长或教导处可以取消课次。")
    return redirect("afterschool:roll_call", pk=lesson.pk)


# --- parents -------------------------------------------------------------------------------


@kind_required(PARENT)
def attendance(request):
    """The child's marks, newest first: an absence shows the same day it is recorded."""
    rows = (
        scope(Attendance.objects.all(), request.user)
        .select_related("child", "lesson__offering")
        .order_by("-lesson__date", "child__name")[:200]
    )
    ratable = ratable_offerings(request.user, timezone.localdate())
    return render(request, "afterschool/attendance.html", {"rows": rows, "ratable": ratable})


@kind_required(PARENT)
def rate(request, pk):
    offering = ended_offerings(request.user, timezone.localdate()).filter(pk=pk).first()
    if offering is None:
        raise PermissionDenied
    error = None
    if request.method == "POST":
        try:
            svc.rating_give(
                user=request.user,
                offering_id=offering.pk,
                stars=request.POST.get("stars", ""),
                comment=request.POST.get("comment", ""),
                child_id=request.POST.get("child") or None,
            )
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            messages.success(request, "感谢您的评价。")
            return redirect("afterschool:menu")
    existing = Rating.objects.filter(offering=offering, parent=request.user.parent).select_related(
        "child"
    )
    return render(
        request,
        "afterschool/rate.html",
        {
            "offering": offering,
            "existing": existing,
            "children": list(unrated_children(request.user, offering.pk)),
            "error": error,
            "post": request.POST,
        },
    )


@kind_required(PARENT)
def survey(request):
    error = None
    if request.method == "POST":
        school_id, _sep, term_id = request.POST.get("pair", "").partition(":")
        try:
            svc.survey_answer(
                user=request.user,
                school_id=int(school_id or 0),
                term_id=int(term_id or 0),
                answer=request.POST.get("answer", ""),
                suggestion=request.POST.get("suggestion", ""),
            )
        except ValueError:
            error = "请选择学校和学期。"
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            messages.success(request, "问卷已提交，感谢您的反馈。")
            return redirect("afterschool:survey")
    pairs = sorted(
        survey_terms(request.user, timezone.localdate()), key=lambda p: (p[1].start, p[0].pk)
    )
    answered = {
        (a.school_id, a.term_id): a for a in TermSurvey.objects.filter(parent=request.user.parent)
    }
    rows = [
        {"school": s, "term": t, "key": f"{s.pk}:{t.pk}", "answer": answered.get((s.pk, t.pk))}
        for s, t in pairs
    ]
    return render(
        request,
        "afterschool/survey.html",
        {"rows": rows, "answers": TermSurvey.Answer.choices, "error": error, "post": request.POST},
    )


# --- the bureau ------------------------------------------------------------------------------


@bureau_required(line="afterschool")
def rates(request):
    today = timezone.localdate()
    start, end = params.query_date(request, "start"), params.query_date(request, "end")
    if not (start and end):
        start, end = (
            today.replace(month=1, day=1) if today.month < 8 else today.replace(month=8, day=1),
            today,
        )
    return render(
        request,
        "afterschool/rates.html",
        {
            "rows": school_rates(start, end),
            "start": start,
            "end": end,
        },
    )
