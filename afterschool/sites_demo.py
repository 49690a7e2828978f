"""Demo of the community sites (社区托管点), made through the part's services: 幸福社区小学堂
(承办学校 实验小学, checked a month ago, open) with its operator ``shequ_xingfu`` and a free
reading course published with its lessons; 和平社区小学堂 whose last check is 13 months old
(shut: the nightly check finds it). Idempotent: nothing is added when the first site exists.

The lead calls ``build()`` after the after-school demo (afterschool/demo.py: 实验小学's plan
in effect). It returns the demo's lines and the operator's one-time password line."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from afterschool import sites
from afterschool.models import CareSite
from portal.models import School

OPEN_SITE = "幸福社区小学堂"
SHUT_SITE = "和平社区小学堂"


def _bureau():
    users = get_user_model().objects.filter(is_active=True)
    return (
        users.filter(username="bureau_afterschool").first()
        or users.filter(is_superuser=True).order_by("pk").first()
    )


@transaction.atomic
def build(*, actor=None, school=None, today=None) -> list[str]:
    today = today or timezone.localdate()
    actor = actor or _bureau()
    school = school or School.objects.filter(name__contains="实验小学").order_by("pk").first()
    if actor is None or school is None or CareSite.objects.filter(name=OPEN_SITE).exists():
        return []
    common = {"street": "城关街道", "partner_school_id": school.pk, "contact_name": "王主任"}
    site = sites.site_create(
        actor=actor, name=OPEN_SITE, community="幸福社区", address="幸福路18号社区活动中心",
        capacity=40, contact_phone="13900001234", **common,
    )  # fmt: skip
    sites.safety_check_record(
        actor=actor, site_id=site.pk, checked_on=today - dt.timedelta(days=30),
        checked_by="区安监站 李工", note="消防通道畅通，灭火器在有效期内", today=today,
    )  # fmt: skip
    shut = sites.site_create(
        actor=actor, name=SHUT_SITE, community="和平社区", address="和平街6号",
        capacity=25, contact_phone="13900005678", **common,
    )  # fmt: skip
    sites.safety_check_record(
        actor=actor, site_id=shut.pk, checked_on=sites.add_months(today, -13),
        checked_by="区安监站 李工", today=today,
    )  # fmt: skip
    operator, password = sites.operator_create(
        actor=actor, site_id=site.pk, username="shequ_xingfu", name="赵社工"
    )
    lines = [
        f"社区托管点：{OPEN_SITE}（开放）、{SHUT_SITE}（安全检查逾期，暂停开放）",
        f"社区托管点管理员 shequ_xingfu 初始密码：{password}",
    ]
    next_week = today + dt.timedelta(days=7 - today.weekday())
    if sites.current_plan(site, today) is not None:
        course = sites.course_create(
            actor=operator.user, name="社区绘本阅读", grades=[1, 2, 3], capacity=20,
            weekday=2, start=dt.time(16, 0), end=dt.time(17, 0), starts_on=next_week,
            today=today,
        )  # fmt: skip
        sites.course_publish(actor=operator.user, offering_id=course.pk)
        lines.append(f"{OPEN_SITE}的“社区绘本阅读”已开放报名（免费）")
    return lines
