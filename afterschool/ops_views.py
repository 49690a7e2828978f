"""School staff's running of the service (rooms, closed days, a course's roster and
changes) and parents' lessons with leave."""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.utils import timezone

from afterschool import course_life, enrolment, operations
from afterschool.lesson_views import with_status_labels
from afterschool.models import ClosedDay, Enrolment, LeaveRequest, Lesson, Offering, Room
from portal.access import get_scoped_or_404, scope
from portal.permissions import (
    PARENT,
    SCHOOL,
    is_school_manager,
    kind_required,
    school_manager_required,
)
from portal.views import messages_from


@school_manager_required
def school_days(request):
    """Rooms and the days the school closes its service."""
    school = request.user.school_staff.school
    action = request.POST.get("action") if request.method == "POST" else None
    try:
        if action == "room":
            room = operations.room_create(user=request.user, name=request.POST.get("name", ""),
                                          capacity=request.POST.get("capacity", ""))  # fmt: skip
            messages.success(request, f"已添加{room}。")
        elif action == "close":
            day = dt.date.fromisoformat(request.POST.get("date", ""))
            operations.day_close(user=request.user, day=day, reason=request.POST.get("reason", ""))
            messages.success(request, f"{day} 已停课，当天课次已取消并通知家长。")
        if action:
            return redirect("afterschool:school_days")
    except ValidationError as exc:
        messages_from(request, exc)
    except ValueError:
        messages.error(request, "请填写日期。")
    return render(request, "afterschool/school_days.html", {
        "rooms": Room.objects.filter(school=school),
        "closed": ClosedDay.objects.filter(school=school, date__gte=timezone.localdate()),
        "post": request.POST if action else {},
    })  # fmt: skip


@kind_required(SCHOOL)
def offering_detail(request, pk):
    """A course's roster (withdrawals by the school), its places, its lessons to move."""
    offering = get_scoped_or_404(
        Offering.objects.select_related("room", "teacher", "plan__term", "school"),
        request.user,
        pk=pk,
    )
    manager = is_school_manager(request.user, offering.school_id)
    action = request.POST.get("action") if request.method == "POST" else None
    try:
        # the services refuse anyone but the school's principal or 教导处 (a 403)
        if action == "withdraw":
            enrolment.withdraw_by_staff(user=request.user,
                                        enrolment_id=int(request.POST.get("enrolment", 0)),
                                        reason=request.POST.get("reason", ""))  # fmt: skip
            messages.success(request, "已为该学生办理退课，费用按本校规则退还。")
        elif action == "cancel":
            course_life.offering_cancel(user=request.user, offering_id=offering.pk,
                                        reason=request.POST.get("reason", ""))  # fmt: skip
            messages.success(
                request, "课程已取消：未上课次已取消，报名已结束，费用按本校规则退还并已通知家长。"
            )
        elif action == "capacity":
            operations.offering_change(user=request.user, offering_id=offering.pk,
                                       capacity=int(request.POST.get("capacity", 0)))  # fmt: skip
            messages.success(request, "名额已更新。")
        if action:
            return redirect("afterschool:offering_detail", pk=offering.pk)
    except ValidationError as exc:
        messages_from(request, exc)
    except (ValueError, Enrolment.DoesNotExist):
        messages.error(request, "请检查填写的内容。")
    roster = offering.enrolments.exclude(status=Enrolment.Status.WITHDRAWN).select_related(
        "child__school_class").order_by("status", "created_at", "id")  # fmt: skip
    lessons = with_status_labels(offering.lessons.select_related("room").order_by("date", "start"))
    # its people from the register (three queries: the course's, the lessons' own, the
    # register to choose from) and the lessons whose teacher's vetting lapses by their day
    from afterschool import people, people_selectors

    today = timezone.localdate()
    staff_rows = list(people_selectors.offering_people(offering))
    own = people_selectors.lesson_people(lessons)
    course_people = {offering.pk: [row.person for row in staff_rows]}
    flags = {}
    for lesson, _person, reasons in people.lesson_flags(lessons, course_people, own, today):
        flags.setdefault(lesson.pk, []).extend(reasons)
    for lesson in lessons:
        lesson.flags = flags.get(lesson.pk, [])
        lesson.own_people = own.get(lesson.pk, [])
    for row in staff_rows:
        row.lapses = people.lapses(row.person, today)
    return render(request, "afterschool/offering_detail.html", {
        "course_people": staff_rows, "flag_count": len(flags),
        "register": list(people.assignable(offering).order_by("name", "pk")) if manager else [],
        "offering": offering, "roster": roster, "lessons": lessons, "manager": manager,
        "may_cancel": course_life.may_cancel(request.user, offering),
        "today": timezone.localdate(), "post": request.POST if action else {},
    })  # fmt: skip


@kind_required(PARENT)
def my_lessons(request):
    """The children's coming lessons (with moves shown as they now are) and their leave."""
    today = timezone.localdate()
    enrolled = scope(Enrolment.objects.all(), request.user).filter(status=Enrolment.Status.ENROLLED)
    children = {e.offering_id: [] for e in enrolled}
    for e in enrolled.select_related("child"):
        children[e.offering_id].append(e.child)
    lessons = (
        Lesson.objects.filter(offering_id__in=children, date__gte=today)
        .select_related("offering", "room")
        .prefetch_related(Prefetch("leaves", queryset=LeaveRequest.objects.filter(
            status__in=[*LeaveRequest.ACTIVE, LeaveRequest.Status.REJECTED])))
        .order_by("date", "start")[:60]
    )  # fmt: skip
    rows = []
    for lesson in lessons:
        leaves = {lv.child_id: lv for lv in lesson.leaves.all()}
        for child in children[lesson.offering_id]:
            rows.append({"lesson": lesson, "child": child, "leave": leaves.get(child.pk)})
    return render(request, "afterschool/my_lessons.html", {"rows": rows, "post": request.POST})


@kind_required(PARENT)
def leave(request, pk):
    """POST: ask leave (child, reason) or withdraw it (action=withdraw, leave=id)."""
    if request.method != "POST":
        return redirect("afterschool:my_lessons")
    lesson = get_scoped_or_404(Lesson.objects.all(), request.user, pk=pk)
    try:
        if request.POST.get("action") == "withdraw":
            operations.leave_withdraw(user=request.user, leave_id=int(request.POST["leave"]))
            messages.success(request, "已撤回请假。")
        else:
            operations.leave_request(user=request.user, lesson_id=lesson.pk,
                                     child_id=int(request.POST.get("child", 0)),
                                     reason=request.POST.get("reason", ""))  # fmt: skip
            messages.success(request, "请假申请已提交，等待老师审批。")
    except ValidationError as exc:
        messages_from(request, exc)
        return my_lessons(request)  # the form again, with what was typed
    except (ValueError, KeyError, LeaveRequest.DoesNotExist):
        messages.error(request, "请检查填写的内容。")
        return my_lessons(request)
    return redirect("afterschool:my_lessons")
