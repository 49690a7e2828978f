"""The demo of the escrow's other two sides (机构端 and the parent), through their services:
an institution's 管理员 account (``jigou_admin``) with a course waiting for the bureau's
备案, another institution's account request, a 20-lesson sale to the demo parent 张女士
accepted and paid through the sandbox gateway (development only: the demo refuses
production), two lessons claimed (one confirmed by the parent, today's waiting for her), and a
10-lesson sale to 刘先生 whose refund request waits for the institution.
Idempotent: nothing is done once the account exists."""

import datetime as dt
from decimal import Decimal
from importlib import import_module

from django.contrib.auth import get_user_model

from afterschool import payments
from institutions import accounts, claims, colour, refunds, sales, services
from institutions.models import Course, Institution, InstitutionStaff, SupervisedAccount

USERNAME = "jigou_admin"
PARENT_USERNAME = "parent_zhang"
OTHER_PARENT = "parent_liu"
LESSONS = 20


def _institution(district, today) -> tuple[Institution, Course] | None:
    """A white, non-subject institution with an escrow account and an approved course on
    sale over today, whose 20 lessons stay under the amount cap."""
    with_account = SupervisedAccount.objects.filter(active=True, kind="escrow").values(
        "institution_id"
    )
    courses = (
        Course.objects.filter(
            institution__district=district, institution__category="non_subject",
            institution_id__in=with_account, active=True, filing=Course.Filing.APPROVED,
            term_start__lte=today - dt.timedelta(days=14),
            term_end__gte=today + dt.timedelta(days=60),
            price_per_lesson__lte=Decimal("200"), slots__isnull=False,
        )
        .select_related("institution")
        .distinct()
        .order_by("institution__name", "pk")
    )  # fmt: skip
    for course in courses[:50]:
        if colour.verdict(course.institution, today=today).colour == colour.WHITE:
            return course.institution, course
    return None


def _last_lesson_day(course: Course, today: dt.date) -> dt.date:
    """The course's last weekly lesson day before today (a week back at most)."""
    weekdays = {s.weekday for s in course.slots.all()}
    day = today - dt.timedelta(days=1)
    while day.weekday() not in weekdays and day > today - dt.timedelta(days=7):
        day -= dt.timedelta(days=1)
    return day


def _sell(seller, course, parent_user, *, lessons, today):
    """A sale accepted by the parent (paid by the caller when the sandbox is offered)."""
    purchase = sales.sale_offer(
        actor=seller, course_id=course.pk, parent_name=parent_user.parent.name,
        parent_phone=parent_user.parent.phone, lessons=lessons,
        amount=course.price_per_lesson * lessons, starts_on=today - dt.timedelta(days=14),
        ends_on=today + dt.timedelta(days=60),
    )  # fmt: skip
    sales.offer_accept(
        user=parent_user, purchase_id=purchase.pk, text_sha256=purchase.contract.text_sha256
    )
    return purchase


def load_sides(*, actor, district, today) -> list[str]:
    if InstitutionStaff.objects.filter(user__username=USERNAME).exists():
        return []
    users = get_user_model().objects.filter(username__in=[PARENT_USERNAME, OTHER_PARENT])
    parents = {u.username: u for u in users}
    found = _institution(district, today)
    if len(parents) < 2 or found is None:
        return []
    institution, course = found
    zhang, liu = parents[PARENT_USERNAME], parents[OTHER_PARENT]
    staff, password = accounts.institution_admin_create(
        actor=actor, institution_id=institution.pk, username=USERNAME, name="机构管理员"
    )
    seller = staff.user
    if sales.current_template() is None:  # a database emptied after migrate (the tests' flush)
        first_version = import_module("institutions.migrations.0008_sales_selling")
        sales.contract_template_publish(
            actor=actor, title=first_version.TITLE, body=first_version.BODY
        )
    lines = [
        f"机构端：{institution.name} 的管理员账号（密码只显示这一次）",
        f"  {USERNAME:<22} {password}",
    ]
    # a new course filed for the bureau's 备案 (待备案 in the bureau's queue)
    slot = course.slots.first()
    filed = services.course_file(
        actor=seller, name=f"{course.name}（寒假班）", subject=course.subject, mode=course.mode,
        lesson_minutes=course.lesson_minutes, class_size=course.class_size,
        price_per_lesson=course.price_per_lesson, term_start=today + dt.timedelta(days=7),
        term_end=today + dt.timedelta(days=60),
        slots=[{"weekday": slot.weekday, "start": slot.start, "end": slot.end}],
    )  # fmt: skip
    # another institution asks for its account from its public page
    other = (
        Institution.objects.filter(district=district, staff__isnull=True)
        .exclude(pk=institution.pk)
        .order_by("name", "pk")
        .first()
    )
    if other is not None:
        accounts.account_request_file(
            institution_id=other.pk, contact_name="孙经理", contact_phone="13700137003",
            note="申请开通机构端账号，用于课程备案和消课。",
        )  # fmt: skip
    lines.append(
        f"  课程“{filed.name}”已提交备案（待审核）"
        + (f"；{other.name}申请开通机构账号（待审核）" if other else "")
    )
    first = _sell(seller, course, zhang, lessons=LESSONS, today=today)
    second = _sell(seller, course, liu, lessons=10, today=today)
    if payments.SANDBOX not in payments.offered():
        lines.append("  两位家长已确认合同，待银行转账付款（本环境未开放沙箱支付）。")
        return lines
    for purchase, parent_user in ((first, zhang), (second, liu)):
        sales.sandbox_complete(user=parent_user, purchase_id=purchase.pk, pay=True)
    # the last lesson (confirmed by the parent) and today's (waiting for her answer)
    done = []
    for day in (_last_lesson_day(course, today), today):
        done += claims.claim_record(
            actor=seller, course_id=course.pk, purchase_ids=[first.pk], date=day,
            start=slot.start, end=slot.end,
        )  # fmt: skip
    claims.claim_confirm(actor=zhang, claim_id=done[0].pk)
    refunds.request_ask(
        actor=liu, purchase_id=second.pk, reason="孩子时间冲突，申请退还未上课时的费用。"
    )
    lines.append(
        f"  {zhang.parent.name}购买“{course.name}”{LESSONS}课时并已付款；机构消课 2 次，"
        f"家长确认 1 次，今天的 1 次待确认；{liu.parent.name}购买 10 课时后申请退费（待机构答复）。"
    )
    return lines
