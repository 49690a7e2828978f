"""The demo of the escrow's other two sides (机构端 and the parent), through their services:
an institution's 管理员 account (``jigou_admin``), a 20-lesson sale to the demo parent
张女士, accepted and paid through the sandbox gateway (development only: the demo refuses
production), two lessons claimed, one confirmed by the parent and one waiting for her.
Idempotent: nothing is done once the account exists."""

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model

from afterschool import payments
from institutions import accounts, claims, colour, sales
from institutions.models import Course, Institution, InstitutionStaff, SupervisedAccount

USERNAME = "jigou_admin"
PARENT_USERNAME = "parent_zhang"
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


def _past_lessons(course: Course, since: dt.date, today: dt.date, n: int) -> list[tuple]:
    """The last ``n`` lessons of the course's weekly slots before today (date, start, end)."""
    slots = list(course.slots.all())
    out = []
    day = today - dt.timedelta(days=1)
    while day >= since and len(out) < n:
        out += [(day, s.start, s.end) for s in slots if s.weekday == day.weekday()][: n - len(out)]
        day -= dt.timedelta(days=1)
    return out


def load_sides(*, actor, district, today) -> list[str]:
    if InstitutionStaff.objects.filter(user__username=USERNAME).exists():
        return []
    parent_user = get_user_model().objects.filter(username=PARENT_USERNAME).first()
    found = _institution(district, today)
    if parent_user is None or found is None:
        return []
    institution, course = found
    staff, password = accounts.institution_admin_create(
        actor=actor, institution_id=institution.pk, username=USERNAME, name="机构管理员"
    )
    seller = staff.user
    purchase = sales.sale_offer(
        actor=seller, course_id=course.pk, parent_name=parent_user.parent.name,
        parent_phone=parent_user.parent.phone, lessons=LESSONS,
        amount=course.price_per_lesson * LESSONS, starts_on=today - dt.timedelta(days=14),
        ends_on=today + dt.timedelta(days=60),
    )  # fmt: skip
    lines = [
        f"机构端：{institution.name} 的管理员账号（密码只显示这一次）",
        f"  {USERNAME:<22} {password}",
    ]
    sales.offer_accept(
        user=parent_user, purchase_id=purchase.pk, text_sha256=purchase.contract.text_sha256
    )
    if payments.SANDBOX not in payments.offered():
        name = parent_user.parent.name
        lines.append(f"  {name}已确认合同，待银行转账付款（本环境未开放沙箱支付）。")
        return lines
    sales.sandbox_complete(user=parent_user, purchase_id=purchase.pk, pay=True)
    done = []
    for day, start, end in reversed(_past_lessons(course, purchase.starts_on, today, 2)):
        done += claims.claim_record(
            actor=seller, course_id=course.pk, purchase_ids=[purchase.pk], date=day,
            start=start, end=end,
        )  # fmt: skip
    if done:
        claims.claim_confirm(actor=parent_user, claim_id=done[0].pk)
    lines.append(
        f"  {parent_user.parent.name}购买“{course.name}”{LESSONS}课时并已付款；机构消课 "
        f"{len(done)} 次，家长确认 {min(1, len(done))} 次，另一次待确认。"
    )
    return lines
