"""The demo district that `make run` loads: idempotent, passwords generated, never fixed.

Running it again adds nothing and changes no password; the passwords of accounts it
creates are returned once, for the launcher to print. It never runs in production
(``PRODUCTION``): demo accounts with known names in a real district are a way in.
"""

import datetime as dt
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from portal.models import Child, District, Parent, School, SchoolClass, SchoolPeriod, SchoolStaff

DISTRICT = ("440199", "示范区")
SCHOOLS = [
    # code, name, stage, grades with classes per grade
    ("4401990001", "示范区实验小学", School.Stage.PRIMARY, {g: 2 for g in range(1, 7)}),
    ("4401990002", "示范区第一中学", School.Stage.JUNIOR, {g: 2 for g in range(7, 10)}),
    ("4401990003", "示范区明德学校", School.Stage.NINE_YEAR, {g: 1 for g in range(1, 10)}),
]
# (username, display name, school code, role); 明德学校 is left without a principal on
# purpose, so the nightly check has something real to find in the demo.
STAFF = [
    ("principal_shiyan", "王校长", "4401990001", SchoolStaff.Role.PRINCIPAL),
    ("jiaowu_shiyan", "李主任", "4401990001", SchoolStaff.Role.ACADEMIC),
    ("teacher_shiyan", "陈老师", "4401990001", SchoolStaff.Role.CLASS_TEACHER),
    ("principal_yizhong", "赵校长", "4401990002", SchoolStaff.Role.PRINCIPAL),
    ("teacher_mingde", "周老师", "4401990003", SchoolStaff.Role.TEACHER),
]
BUREAU = [
    ("bureau_admin", "教育局管理员", None),
    ("bureau_training", "校外培训科", "校外培训"),
    ("bureau_homework", "基础教育科", "基础教育/作业"),
    ("bureau_afterschool", "课后服务科", "课后服务"),
    ("bureau_cases", "案例库编辑", "案例库"),
]
PARENTS = [
    ("parent_zhang", "张女士", "13800138001", [("张小明", "4401990001", 3, 1)]),
    (
        "parent_liu",
        "刘先生",
        "13900139002",
        [("刘小红", "4401990001", 5, 2), ("刘小刚", "4401990002", 8, 1)],
    ),
]
# School year 2025-2026 and the autumn term of 2026 (the demo's "now" is late 2026).
PERIODS = [
    (SchoolPeriod.Kind.TERM, "2025-2026学年第一学期", "2025-09-01", "2026-01-16"),
    (SchoolPeriod.Kind.WINTER, "2026年寒假", "2026-01-17", "2026-02-28"),
    (SchoolPeriod.Kind.TERM, "2025-2026学年第二学期", "2026-03-01", "2026-07-03"),
    (SchoolPeriod.Kind.SUMMER, "2026年暑假", "2026-07-04", "2026-08-31"),
    (SchoolPeriod.Kind.TERM, "2026-2027学年第一学期", "2026-09-01", "2027-01-22"),
    # the coming winter vacation: holiday care is planned and enrolled before it starts
    (SchoolPeriod.Kind.WINTER, "2027年寒假", "2027-01-23", "2027-02-28"),
]

PUPIL_NAMES = ["李雨轩", "王子涵", "张欣怡", "刘浩然", "陈思远", "杨梓萱", "赵一诺", "黄俊杰"]


class DemoRefused(RuntimeError):
    """Demo data asked for in production."""


def refuse_in_production():
    """Raise ``DemoRefused`` when the portal runs as production (read now, not at import)."""
    if settings.PRODUCTION:
        raise DemoRefused(
            "生产环境（PORTAL_PRODUCTION=true）不能加载演示数据：演示账号和演示学校"
            "不得进入真实的数据库。"
        )


def _user(username, *, staff=False, superuser=False, created_passwords):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"is_staff": staff or superuser, "is_superuser": superuser}
    )
    if created:
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.save(update_fields=["password"])
        created_passwords.append((username, password))
    return user


@transaction.atomic
def load_demo() -> list[tuple[str, str]]:
    """Create what is missing; return [(username, password)] for accounts created now."""
    refuse_in_production()
    passwords: list[tuple[str, str]] = []
    district, _ = District.objects.get_or_create(code=DISTRICT[0], defaults={"name": DISTRICT[1]})
    for kind, name, start, end in PERIODS:
        SchoolPeriod.objects.get_or_create(
            district=district,
            name=name,
            defaults={
                "kind": kind,
                "start": dt.date.fromisoformat(start),
                "end": dt.date.fromisoformat(end),
                # the demo's past terms are over, the autumn term of 2026 runs
                "status": SchoolPeriod.Status.CLOSED
                if dt.date.fromisoformat(end) < dt.date(2026, 9, 1)
                else SchoolPeriod.Status.ACTIVE,
            },
        )
    schools = {}
    for code, name, stage, classes in SCHOOLS:
        school, _ = School.objects.get_or_create(
            code=code, defaults={"name": name, "stage": stage, "district": district}
        )
        schools[code] = school
        for grade, count in classes.items():
            for number in range(1, count + 1):
                SchoolClass.objects.get_or_create(school=school, grade=grade, number=number)
    for username, name, code, role in STAFF:
        user = _user(username, created_passwords=passwords)
        staff, _ = SchoolStaff.objects.get_or_create(
            user=user, defaults={"school": schools[code], "role": role, "name": name}
        )
        if role == SchoolStaff.Role.CLASS_TEACHER:
            SchoolClass.objects.filter(school=staff.school, grade=3, number=1).update(
                head_teacher=staff
            )
    for username, _name, group in BUREAU:
        user = _user(username, staff=True, superuser=group is None, created_passwords=passwords)
        if group:
            user.groups.add(Group.objects.get(name=group))
    for username, name, phone, kids in PARENTS:
        user = _user(username, created_passwords=passwords)
        parent, _ = Parent.objects.get_or_create(user=user, defaults={"name": name, "phone": phone})
        for child_name, code, grade, number in kids:
            school_class = SchoolClass.objects.get(school=schools[code], grade=grade, number=number)
            child, _ = Child.objects.get_or_create(
                name=child_name, school_class=school_class, defaults={"school": schools[code]}
            )
            child.parents.add(parent)
    # a few classmates, so class pages are not empty
    for school in schools.values():
        for school_class in school.classes.all()[:4]:
            for pupil in PUPIL_NAMES[:4]:
                Child.objects.get_or_create(
                    name=pupil, school_class=school_class, defaults={"school": school}
                )
    return passwords
