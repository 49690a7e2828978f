"""Demo of lunch-break care (午托), created through afterschool/lunch.py: 实验小学 opens
lunch care for next month (or, when the calendar does not know next month yet, for this
month) with 40 seats and 20 beds at 150 元 a month, and 张小明 asks for a bed. Idempotent:
nothing is added when the school already has a month of lunch care."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from afterschool import lunch
from afterschool.lunch_models import LunchMonth
from afterschool.models import Room
from portal.models import Child, SchoolStaff


@transaction.atomic
def build(principal_username: str = "principal_shiyan", child_name: str = "张小明") -> list[str]:
    principal = SchoolStaff.objects.filter(user__username=principal_username).first()
    if principal is None or LunchMonth.objects.filter(school=principal.school).exists():
        return []
    school = principal.school
    room, _ = Room.objects.get_or_create(school=school, name="午休室", defaults={"capacity": 60})
    today = timezone.localdate()
    following = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    opened = None
    for month in (following, today):
        try:
            with transaction.atomic():
                opened = lunch.month_open(
                    user=principal.user, month=month, seats=40, beds=20,
                    fee_per_month=Decimal("150"), days=[0, 1, 2, 3, 4], room_id=room.pk,
                )  # fmt: skip
            break
        except ValidationError:
            continue
    if opened is None:
        return []
    done = [f"午托：{school.name}{opened.offering.name}（40 个名额、20 张床位、150 元/月）"]
    child = Child.objects.filter(name=child_name, school=school).first()
    parent = child.parents.first() if child is not None else None
    if parent is not None:
        try:
            with transaction.atomic():
                lunch.enrol(user=parent.user, child_id=child.pk, month_id=opened.pk,
                            arrangement="bed", days=[0, 1, 2, 3, 4])  # fmt: skip
            done.append(f"午托：{child_name}已报名平躺睡")
        except ValidationError:
            pass  # this month's first break has passed: enrolment is closed
    return done
