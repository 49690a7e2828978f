"""Demo of the people register (志愿者与社会资源人员), for the lead to call from the demo after
the after-school demo (afterschool/demo.py) has run: ``build()``.

Through the services: 实验小学's principal registers three volunteers (a retired teacher and
an artist with valid vetting, a coach whose 健康证明 expires within the warning days) and names
the artist on 创意美术; the bureau's after-school staff registers a university student to the
district pool whose 无犯罪记录证明 has lapsed (the nightly check's serious finding when named,
and the overview's 审查失效). Idempotent: nothing is added when the register has people."""

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from afterschool import people
from afterschool.models import Offering, Person
from portal.models import SchoolStaff


@transaction.atomic
def build() -> list[str]:
    principal = SchoolStaff.objects.filter(user__username="principal_shiyan").first()
    bureau = get_user_model().objects.filter(username="bureau_afterschool").first()
    if principal is None or Person.objects.exists():
        return []
    today = timezone.localdate()
    fresh = today - dt.timedelta(days=60)
    made = []
    for name, kind, phone, venue, over in [
        ("周建国", "retired_teacher", "13800005555", "实验小学退休教师", {}),
        ("林晓", "artist", "13800006666", "区文化馆", {}),
        ("黄教练", "coach", "13800007777", "区青少年体育学校",
         {"health_cert_on": today - relativedelta(months=12) + dt.timedelta(days=10)}),
    ]:  # fmt: skip
        dates = {"no_criminal_record_on": fresh, "health_cert_on": fresh, "trained_on": fresh}
        made.append(
            people.person_create(
                user=principal.user,
                name=name,
                kind=kind,
                phone=phone,
                venue=venue,
                **(dates | over),
            )  # fmt: skip
        )
    art = Offering.objects.filter(school=principal.school, name="创意美术").first()
    if art is not None:
        people.offering_person_add(user=principal.user, offering_id=art.pk,
                                   person_id=made[1].pk)  # fmt: skip
    if bureau is not None:
        made.append(
            people.person_create(
                user=bureau,
                name="吴同学",
                kind="student",
                phone="13800008888",
                venue="师范大学志愿者协会",
                district=principal.school.district,
                no_criminal_record_on=today - relativedelta(months=13),
                health_cert_on=fresh,
                trained_on=fresh,
            )  # fmt: skip
        )
    return [f"人员名册：{p.name}" for p in made]
