"""The day-to-day running of the service: days the school closes, publishing with its room
and staff free, changes of a course, rescheduling one lesson, and leave.

Lock order, as everywhere in the app: School, then Offering rows by primary key, then
Lesson rows, then what hangs off them. Publishing and rescheduling lock the school's row:
two of them that would put one teacher, room or child in two places cannot both pass
(tests/afterschool/test_reschedule_concurrency.py).
"""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from afterschool.lessons import (
    is_open,
    lessons_generate,
    local_now,
    may_take_roll,
    starts_at,
    term_plan_problem,
)
from afterschool.models import (
    WEEKDAY_NAMES,
    Attendance,
    ClosedDay,
    Enrolment,
    LeaveRequest,
    Lesson,
    LessonMove,
    Offering,
    Provider,
    Room,
    SchoolPlan,
)
from portal.access import SCHOOL, kind_of
from portal.audit import audit_record, snapshot
from portal.locks import locked
from portal.models import Parent, School
from portal.notices import notify
from portal.permissions import is_school_manager, require

# a course is published (and its lessons generated) only under a plan in effect
LIVE_PLAN = [SchoolPlan.Status.IN_EFFECT]


def _lock_school(school_id: int):
    """The school's row lock: days closed, publishing, course changes and reschedules of one
    school one at a time (tests/afterschool/test_edges_day_close_concurrency.py and
    test_reschedule_concurrency.py show the races without it)."""
    locked(School.objects.filter(pk=school_id)).first()


def _manager(user) -> int:
    """The school id of a principal or 教导处; others are refused."""
    require(is_school_manager(user))
    return user.school_staff.school_id


def tell_parents(lesson: Lesson, *, key: str, message: str):
    """The in-site inbox of every parent of a child holding a place in the lesson's course."""
    users = Parent.objects.filter(
        children__enrolments__offering_id=lesson.offering_id,
        children__enrolments__status=Enrolment.Status.ENROLLED,
    ).values_list("user_id", flat=True)
    notify(users, key=key, message=message, url="/afterschool/my-lessons/")


# --- rooms ---------------------------------------------------------------------------------

ROOM_MAX_CAPACITY = 2000  # a sports ground at most; the column is a small integer


def room_create(*, user, name: str, capacity) -> Room:
    """A room or ground of the manager's school, its name unique in the school: a second
    room of the same name (even submitted at the same moment) is refused, never a 500."""
    school_id = _manager(user)
    name = (name or "").strip()
    try:
        capacity = int(capacity)
    except (TypeError, ValueError):
        capacity = 0
    if not name or capacity < 1:
        raise ValidationError("请填写教室名称和容纳人数（至少 1 人）。")
    errors = {}
    if len(name) > Room._meta.get_field("name").max_length:
        errors["name"] = "教室名称最多 50 个字。"
    if capacity > ROOM_MAX_CAPACITY:
        errors["capacity"] = f"容纳人数最多 {ROOM_MAX_CAPACITY} 人。"
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            room = Room.objects.create(school_id=school_id, name=name, capacity=capacity)
            audit_record(
                actor=user,
                action="afterschool.room.created",
                obj=room,
                new={"name": name, "capacity": capacity},
            )
    except IntegrityError:
        # as_room_once: one name a school
        raise ValidationError({"name": f"已有名为“{name}”的教室。"}) from None
    return room


# --- closed days ---------------------------------------------------------------------------


def _touched(lessons, now) -> list[str]:
    """Why these lessons can no longer be cancelled by closing their day, one line each."""
    problems = []
    for lesson in lessons:
        name = f"{lesson.offering.name}（{lesson.start:%H:%M}）"
        if lesson.status == Lesson.Status.HELD or lesson.roll_submitted_at:
            problems.append(f"{name}已点名")
        elif local_now(now) >= starts_at(lesson):
            problems.append(f"{name}已开始")
        elif Attendance.objects.filter(lesson=lesson).exists():
            problems.append(f"{name}已有考勤")
        elif lesson.leaves.exists():
            problems.append(f"{name}已有请假")
        elif lesson.moves.exists() or lesson.planned_date != lesson.date:
            problems.append(f"{name}已调课")
    return problems


def day_close(*, user, day: dt.date, reason: str, now=None) -> ClosedDay:
    """Close the school's service on ``day``: that day's lessons are cancelled and their
    parents told; refused while any lesson that day has started or already has attendance,
    leave or a change on it (say which)."""
    school_id = _manager(user)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写停课原因。"})
    if day < timezone.localdate(now):
        raise ValidationError({"date": "不能补登过去的停课日。"})
    with transaction.atomic():
        _lock_school(school_id)
        existing = ClosedDay.objects.filter(school_id=school_id, date=day).first()
        if existing is not None:
            return existing
        lessons = list(
            locked(Lesson.objects.filter(offering__school_id=school_id, date=day), of=("self",))
            .exclude(status=Lesson.Status.CANCELLED)
            .select_related("offering")
            .order_by("pk")
        )
        problems = _touched(lessons, now)
        if problems:
            raise ValidationError({"date": f"{day} 不能停课：" + "；".join(problems) + "。"})
        closed = ClosedDay.objects.create(school_id=school_id, date=day, reason=reason, by=user)
        for lesson in lessons:
            lesson.status = Lesson.Status.CANCELLED
            lesson.cancel_reason = f"学校停课：{reason}"[:200]
            lesson.save(update_fields=["status", "cancel_reason"])
            tell_parents(
                lesson,
                key=f"lesson:{lesson.pk}:cancelled",
                message=f"{lesson.offering.name} {day} 停课：{reason}",
            )
        audit_record(
            actor=user,
            action="afterschool.day.closed",
            obj=closed,
            new={"reason": reason, "lessons_cancelled": [x.pk for x in lessons]},
        )
    return closed


# --- publishing and changing a course --------------------------------------------------------


def _overlap(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end


def weekly_clash(offering: Offering) -> str | None:
    """Another published course of the same term at an overlapping weekly time with the
    same teacher or in the same room."""
    others = (
        Offering.objects.filter(
            plan__term_id=offering.plan.term_id,
            weekday=offering.weekday,
            status=Offering.Status.PUBLISHED,
            start__lt=offering.end,
            end__gt=offering.start,
        )
        .filter(
            Q(teacher_id=offering.teacher_id, teacher__isnull=False)
            | Q(room_id=offering.room_id, room__isnull=False)
        )
        .exclude(pk=offering.pk)
    )
    other = others.select_related("teacher", "room").first()
    if other is None:
        return None
    if offering.teacher_id and other.teacher_id == offering.teacher_id:
        return f"授课教师{other.teacher.name}在该时段已有课程“{other}”。"
    return f"{other.room.name}在该时段已有课程“{other}”。"


def publish_problems(offering: Offering) -> list[str]:
    problems = []
    gate = term_plan_problem(offering)  # the term active and the plan in effect
    if gate:
        problems.append(gate)
    if offering.contract_id and offering.contract.provider.status != Provider.Status.ADMITTED:
        problems.append("该第三方机构不在准入名单内，课程不能开放报名。")
    if offering.weekday not in offering.plan.weekdays:
        problems.append(f"方案中没有安排周{WEEKDAY_NAMES[offering.weekday]}的课后服务。")
    if offering.room_id is None:
        problems.append("请为课程安排教室或场地。")
    elif offering.room.capacity < offering.capacity:
        problems.append(
            f"{offering.room.name}只能容纳{offering.room.capacity}人，少于名额{offering.capacity}人。"
        )
    clash = weekly_clash(offering)
    if clash:
        problems.append(clash)
    from afterschool import funding, people  # they import the models and operations

    problems += people.publish_problems(offering)
    problems += funding.publish_problems(offering)
    return problems


OFFERING_FIELDS = (
    "plan", "plan_item", "name", "kind", "teacher", "contract", "grades",
    "capacity", "weekday", "start", "end", "room", "fee_per_lesson", "starts_on",
    "signup_opens", "signup_closes",
)  # fmt: skip


# the kinds a school makes on its menu; holiday weeks (afterschool.holiday), lunch months
# (afterschool.lunch) and community courses (afterschool.sites) have their own services
SCHOOL_COURSE_KINDS = (Offering.Kind.CARE, Offering.Kind.HOMEWORK, Offering.Kind.ENRICHMENT)


def offering_create(*, user, people=(), **fields) -> Offering:
    """A course of the user's school, as a draft (publishing opens it, ``offering_publish``).
    What it points at (plan, plan item, teacher, room) must be of the same school; the
    people who teach it besides its teacher come from the register (``people``, no free
    text), each vetted today (afterschool.people)."""
    require(kind_of(user) == SCHOOL)
    unknown = set(fields) - set(OFFERING_FIELDS)
    if unknown:
        raise ValueError(f"cannot set {unknown}")
    school_id = user.school_staff.school_id
    errors = {}
    for field, owner in (("plan", "school_id"), ("teacher", "school_id"),
                         ("room", "school_id")):  # fmt: skip
        value = fields.get(field)
        if value is not None and getattr(value, owner) != school_id:
            errors[field] = "请选择本校的记录。"
    if "kind" in fields and fields["kind"] not in SCHOOL_COURSE_KINDS:
        errors["kind"] = "假期托管、午托和社区课堂请在各自的页面开设。"
    plan = fields.get("plan")
    if plan is not None and plan.term.kind != plan.term.Kind.TERM:
        errors["plan"] = "课程超市的课程只能属于学期方案；假期托管由教育局指定托管点开设。"
    item = fields.get("plan_item")
    if item is not None and item.plan.school_id != school_id:
        errors["plan_item"] = "请选择本校方案中的服务项目。"
    start, end = fields.get("start"), fields.get("end")
    if start and end and end <= start:
        errors["end"] = "结束时间应晚于开始时间。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        offering = Offering.objects.create(school_id=school_id, **fields)
        audit_record(
            actor=user,
            action="afterschool.offering.created",
            obj=offering,
            new=snapshot(offering, [f for f in OFFERING_FIELDS if f in fields]),
        )
        from afterschool.people import people_attach

        people_attach(offering, list(people), user=user)
    return offering


def offering_publish(*, user, offering_id: int) -> Offering:
    """School staff open a course for enrolment: its term active, its plan approved or in
    effect, a room at least as large as its places, its teacher and room free at that time,
    a provider's course only under an admitted provider. Generates its lessons."""
    staff = getattr(user, "school_staff", None)
    if staff is None:
        raise PermissionDenied
    with transaction.atomic():
        _lock_school(staff.school_id)
        offering = locked(
            Offering.objects.select_related(
                "plan__term", "contract__provider", "room", "school__district"
            ),
            of=("self",),
        ).get(pk=offering_id, school_id=staff.school_id)
        if offering.status == Offering.Status.PUBLISHED:
            return offering
        problems = publish_problems(offering)
        if problems:
            raise ValidationError(problems)
        offering.status = Offering.Status.PUBLISHED
        offering.save(update_fields=["status"])
        created, note = lessons_generate(offering)
        audit_record(
            actor=user,
            action="afterschool.offering.published",
            obj=offering,
            new={"lessons": created, "note": note},
        )
    offering.lessons_note = note
    return offering


SCHEDULE_FIELDS = ("weekday", "start", "end", "teacher_id", "room_id")


def offering_change(*, user, offering_id: int, **changes) -> Offering:
    """Change a course. Once it has enrolments its time, teacher and room change only by
    rescheduling lessons, and its places never go below those taken."""
    school_id = _manager(user)
    allowed = {*SCHEDULE_FIELDS, "capacity", "name"}
    if set(changes) - allowed:
        raise ValueError(f"cannot change {set(changes) - allowed}")
    with transaction.atomic():
        _lock_school(school_id)
        offering = locked(
            Offering.objects.select_related("plan__term", "room", "contract__provider"),
            of=("self",),
        ).get(pk=offering_id, school_id=school_id)
        taken = offering.enrolments.filter(status=Enrolment.Status.ENROLLED).count()
        has_enrolments = offering.enrolments.exclude(status=Enrolment.Status.WITHDRAWN).exists()
        errors = {}
        moved = [f for f in SCHEDULE_FIELDS if f in changes and changes[f] != getattr(offering, f)]
        if moved and has_enrolments:
            errors["start"] = "课程已有报名，时间、教师和教室只能通过调课逐次调整。"
        if "capacity" in changes and changes["capacity"] < taken:
            errors["capacity"] = f"已有{taken}人报名，名额不能少于{taken}。"
        if errors:
            raise ValidationError(errors)
        old = {f: getattr(offering, f) for f in changes}
        for field, value in changes.items():
            setattr(offering, field, value)
        if offering.status == Offering.Status.PUBLISHED:
            offering.room = Room.objects.filter(pk=offering.room_id).first()
            problems = publish_problems(offering)
            if problems:
                raise ValidationError(problems)
        offering.save(update_fields=list(changes))
        if moved:  # no one enrolled: the untouched future lessons follow the course
            future = offering.lessons.filter(
                status=Lesson.Status.SCHEDULED, date__gte=timezone.localdate()
            )
            future.update(start=offering.start, end=offering.end, room_id=offering.room_id)
        audit_record(
            actor=user, action="afterschool.offering.changed", obj=offering, old=old, new=changes
        )
    return offering


# --- rescheduling -----------------------------------------------------------------------------


def _busy(lesson: Lesson, day, start, end, room_id) -> str | None:
    """Who would be in two places: the teacher, the room, or an enrolled child."""
    at = (
        Lesson.objects.filter(date=day, start__lt=end, end__gt=start)
        .exclude(status=Lesson.Status.CANCELLED)
        .exclude(pk=lesson.pk)
    )
    teacher_id = lesson.offering.teacher_id
    if teacher_id and at.filter(offering__teacher_id=teacher_id).exists():
        return f"授课教师{lesson.offering.teacher.name}在该时段另有课。"
    if room_id and at.filter(room_id=room_id).exists():
        return "该教室在该时段已被占用。"
    children = Enrolment.objects.filter(
        offering_id=lesson.offering_id, status=Enrolment.Status.ENROLLED
    ).values("child_id")
    busy = (
        Enrolment.objects.filter(
            child_id__in=children, status=Enrolment.Status.ENROLLED, offering__lessons__in=at
        )
        .select_related("child")
        .first()
    )
    if busy is not None:
        return f"已报名的学生{busy.child.name}在该时段另有课。"
    return None


def _no_pause():
    pass


# Tests widen the window between the busy check and the write here.
_after_busy_check = _no_pause


def lesson_move(
    *,
    user,
    lesson_id: int,
    day: dt.date,
    start: dt.time,
    end: dt.time,
    room_id: int | None,
    reason: str,
    now=None,
    lock: bool = True,
) -> LessonMove:
    """Move one future lesson to another time or room, with a reason."""
    school_id = _manager(user)
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = "请填写调课原因。"
    if end <= start:
        errors["end"] = "结束时间应晚于开始时间。"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if lock:  # one reschedule of the school at a time: two that clash cannot both pass
            _lock_school(school_id)
        lesson = locked(
            Lesson.objects.select_related(
                "offering__teacher", "offering__school__district", "offering__plan__term"
            ),
            of=("self",),
        ).get(pk=lesson_id, offering__school_id=school_id)
        if lesson.status != Lesson.Status.SCHEDULED or local_now(now) >= starts_at(lesson):
            raise ValidationError("只能调整尚未开始的课次。")
        target = timezone.make_aware(dt.datetime.combine(day, start))
        if target <= local_now(now):
            raise ValidationError({"date": "调课后的时间应在将来。"})
        room = Room.objects.filter(pk=room_id, school_id=school_id).first() if room_id else None
        if room_id and room is None:
            raise ValidationError({"room": "请选择本校的教室。"})
        if room and room.capacity < lesson.offering.capacity:
            raise ValidationError({"room": f"{room.name}只能容纳{room.capacity}人。"})
        if not is_open(lesson.offering.school, day, vacation=lesson.offering.plan.term.is_vacation):
            raise ValidationError({"date": f"{day} 学校不开展课后服务（节假日或停课日）。"})
        problem = _busy(lesson, day, start, end, room_id)
        if problem:
            raise ValidationError(problem)
        _after_busy_check()
        move = LessonMove.objects.create(
            lesson=lesson,
            from_date=lesson.date,
            from_start=lesson.start,
            from_end=lesson.end,
            from_room_id=lesson.room_id,
            to_date=day,
            to_start=start,
            to_end=end,
            to_room_id=room_id,
            reason=reason,
            by=user,
        )
        lesson.date, lesson.start, lesson.end, lesson.room_id = day, start, end, room_id
        lesson.save(update_fields=["date", "start", "end", "room"])
        audit_record(
            actor=user,
            action="afterschool.lesson.moved",
            obj=lesson,
            old={"date": move.from_date, "start": move.from_start},
            new={"date": day, "start": start, "reason": reason},
        )
        tell_parents(
            lesson,
            key=f"lesson:{lesson.pk}:move:{move.pk}",
            message=f"{lesson.offering.name} 原定 {move.from_date} {move.from_start:%H:%M} "
            f"的课调到 {day} {start:%H:%M}：{reason}",
        )
    return move


def lesson_move_undo(*, user, move_id: int, now=None) -> Lesson:
    """Undo the latest move of a lesson (not an earlier one), back where it was, checked
    like any move."""
    school_id = _manager(user)
    with transaction.atomic():
        _lock_school(school_id)
        move = locked(LessonMove.objects.all()).get(
            pk=move_id, lesson__offering__school_id=school_id
        )
        latest = (
            LessonMove.objects.filter(lesson_id=move.lesson_id, undone_at__isnull=True)
            .order_by("-at", "-id")
            .first()
        )
        if move.undone_at is not None or latest is None or latest.pk != move.pk:
            raise ValidationError("只能撤销该课次最近一次调课。")
        lesson = locked(
            Lesson.objects.select_related(
                "offering__teacher", "offering__school__district", "offering__plan__term"
            ),
            of=("self",),
        ).get(pk=move.lesson_id)
        if lesson.status != Lesson.Status.SCHEDULED or local_now(now) >= starts_at(lesson):
            raise ValidationError("课次已开始，不能撤销调课。")
        if timezone.make_aware(dt.datetime.combine(move.from_date, move.from_start)) <= local_now(
            now
        ):
            raise ValidationError("原定时间已过，不能撤销，请重新调课。")
        if not is_open(
            lesson.offering.school, move.from_date, vacation=lesson.offering.plan.term.is_vacation
        ):
            raise ValidationError(f"{move.from_date} 学校已停课，不能撤销。")
        problem = _busy(lesson, move.from_date, move.from_start, move.from_end, move.from_room_id)
        if problem:
            raise ValidationError(problem)
        move.undone_at = timezone.now()
        move.save(update_fields=["undone_at"])
        lesson.date, lesson.start, lesson.end = move.from_date, move.from_start, move.from_end
        lesson.room_id = move.from_room_id
        lesson.save(update_fields=["date", "start", "end", "room"])
        audit_record(
            actor=user,
            action="afterschool.lesson.move_undone",
            obj=lesson,
            new={"date": move.from_date},
        )
        tell_parents(
            lesson,
            key=f"lesson:{lesson.pk}:undo:{move.pk}",
            message=f"{lesson.offering.name} 的课恢复到原定 {move.from_date} "
            f"{move.from_start:%H:%M}。",
        )
    return lesson


# --- leave ------------------------------------------------------------------------------------


def leave_request(*, user, lesson_id: int, child_id: int, reason: str, now=None) -> LeaveRequest:
    """A parent asks leave for their child from a future lesson (one active request a
    lesson)."""
    parent = getattr(user, "parent", None)
    if parent is None or not parent.children.filter(pk=child_id).exists():
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写请假原因。"})
    with transaction.atomic():
        lesson = locked(Lesson.objects.select_related("offering"), of=("self",)).get(pk=lesson_id)
        if not Enrolment.objects.filter(
            offering_id=lesson.offering_id, child_id=child_id, status=Enrolment.Status.ENROLLED
        ).exists():
            raise PermissionDenied
        if lesson.status != Lesson.Status.SCHEDULED or local_now(now) >= starts_at(lesson):
            raise ValidationError("只能为尚未开始的课次请假。")
        if lesson.leaves.filter(child_id=child_id, status__in=LeaveRequest.ACTIVE).exists():
            raise ValidationError("该课次已有请假申请。")
        leave = LeaveRequest.objects.create(
            lesson=lesson, child_id=child_id, reason=reason, requested_by=user
        )
        audit_record(
            actor=user, action="afterschool.leave.requested", obj=leave, new={"reason": reason}
        )
    return leave


def leave_withdraw(*, user, leave_id: int, now=None) -> LeaveRequest:
    with transaction.atomic():
        leave = locked(LeaveRequest.objects.select_related("lesson"), of=("self",)).get(
            pk=leave_id, child__parents__user=user
        )
        if leave.status == LeaveRequest.Status.WITHDRAWN:
            return leave
        if leave.status not in LeaveRequest.ACTIVE or local_now(now) >= starts_at(leave.lesson):
            raise ValidationError("课次开始后不能撤回请假。")
        leave.status = LeaveRequest.Status.WITHDRAWN
        leave.save(update_fields=["status"])
        audit_record(actor=user, action="afterschool.leave.withdrawn", obj=leave)
    return leave


def leave_decide(*, user, leave_id: int, approve: bool) -> LeaveRequest:
    """The course's teacher or school staff approve or reject a requested leave."""
    with transaction.atomic():
        leave = locked(
            LeaveRequest.objects.select_related("lesson__offering", "child"), of=("self",)
        ).get(pk=leave_id)
        if not may_take_roll(user, leave.lesson):
            raise PermissionDenied
        if leave.status != LeaveRequest.Status.REQUESTED:
            return leave
        leave.status = LeaveRequest.Status.APPROVED if approve else LeaveRequest.Status.REJECTED
        leave.decided_by = user
        leave.decided_at = timezone.now()
        leave.save(update_fields=["status", "decided_by", "decided_at"])
        audit_record(actor=user, action=f"afterschool.leave.{leave.status}", obj=leave)
        notify(
            leave.child.parents.values_list("user_id", flat=True),
            key=f"leave:{leave.pk}:{leave.status}",
            message=f"{leave.child.name} {leave.lesson.date} {leave.lesson.offering.name}"
            f"的请假{leave.get_status_display()}。",
        )
    return leave
