"""Demo of the course catalogue (公益课程包): the autumn term of the demo district.

What it shows: 示范区博物馆 (account ``org_bowuguan``) publishes 博物馆里的中国历史 (到馆,
2 visits × 40 places) and 示范区科技馆 (``org_kejiguan``) 科技馆送课进校 (4 × 45). Both
schools with a principal order the museum's package: 实验小学 80 pupils (2 visits), 第一中学
40 (1 visit) — demand 3 visits for 2. The bureau (``bureau_afterschool``) has marked 第一中学
rural and dispatched by the rule: 第一中学 first (rural) gets its visit, 实验小学 one of its
two (部分派单). The museum recorded both visits; 第一中学 confirmed and rated its 5,
实验小学's waits for ``principal_shiyan`` to confirm. 实验小学 also ordered the science
centre's package, not yet dispatched (the bureau sees 按规则派单 on its page).

``build()`` goes through supply/catalogue.py's services; idempotent (a district whose museum
exists is left as it is). The organisations and their members are created directly: the
accounts part of supply owns their services (NEEDS in the notes)."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from institutions.uscc import check_character
from portal.models import SchoolPeriod, SchoolStaff
from supply import catalogue
from supply.account_models import Organisation, OrganisationMember

TERM = "2026-2027学年第一学期"
VENUES = [
    # username, organisation, kind, credit code body (17), contact
    ("org_bowuguan", "示范区博物馆", Organisation.Kind.MUSEUM, "12440199MB0000011", "钱馆员"),
    ("org_kejiguan", "示范区科技馆", Organisation.Kind.SCIENCE, "12440199MB0000022", "孙老师"),
]


def _venue(username, name, kind, body, contact, passwords):
    from portal.demo import _user

    code = body + check_character(body)
    org, _ = Organisation.objects.get_or_create(
        credit_code=code,
        defaults={"name": name, "kind": kind, "contact_name": contact,
                  "contact_phone": "13600136006"},
    )  # fmt: skip
    user = _user(username, created_passwords=passwords)
    OrganisationMember.objects.get_or_create(
        user=user,
        defaults={"organisation": org, "role": OrganisationMember.Role.ADMIN, "name": contact},
    )
    return user


@transaction.atomic
def build(*, term_name: str = TERM) -> list[tuple[str, str]]:
    """Create the demo catalogue; return [(username, password)] of accounts created now."""
    User = get_user_model()  # noqa: N806
    bureau = User.objects.filter(username="bureau_afterschool").first()
    term = SchoolPeriod.objects.filter(name=term_name, kind=SchoolPeriod.Kind.TERM).first()
    staff = {
        s.user.username: s
        for s in SchoolStaff.objects.filter(
            user__username__in=["principal_shiyan", "principal_yizhong"]
        ).select_related("user", "school")
    }
    if bureau is None or term is None or len(staff) < 2:
        return []
    if Organisation.objects.filter(name=VENUES[0][1]).exists():
        return []
    passwords: list[tuple[str, str]] = []
    museum, science = (_venue(*v, passwords) for v in VENUES)
    shiyan, yizhong = staff["principal_shiyan"], staff["principal_yizhong"]
    today = timezone.localdate()
    start = min(max(term.start + dt.timedelta(days=30), term.start), term.end)
    history = catalogue.package_publish(
        actor=museum, term_id=term.pk, title="博物馆里的中国历史", kind="history",
        grades=[3, 4, 5, 6, 7, 8], visits=2, places_per_visit=40, mode="travel",
        window_start=start, window_end=term.end,
        description="讲解员带领参观古代文明展厅，完成一份研学单。每场 90 分钟，学校自行组织往返。",
    )  # fmt: skip
    lab = catalogue.package_publish(
        actor=science, term_id=term.pk, title="科技馆送课进校：趣味物理实验", kind="science",
        grades=[4, 5, 6], visits=4, places_per_visit=45, mode="in_school",
        window_start=start, window_end=term.end,
        description="科技辅导员带实验器材进校，一场一个年级。",
    )  # fmt: skip
    catalogue.order_place(actor=shiyan.user, package_id=history.pk, pupils=80,
                          preferred_dates=[start], note="三、四年级各一个班")  # fmt: skip
    catalogue.order_place(actor=yizhong.user, package_id=history.pk, pupils=40,
                          preferred_dates=[start])  # fmt: skip
    catalogue.order_place(actor=shiyan.user, package_id=lab.pk, pupils=90,
                          preferred_dates=[start])  # fmt: skip
    catalogue.locality_set(actor=bureau, school_id=yizhong.school_id, rural=True)
    orders = catalogue.dispatch(actor=bureau, package_id=history.pk)
    if start <= today:  # the visits happened (the demo's "now" is inside the window)
        day = min(today, term.end)
        for order in orders:
            visit = catalogue.visit_record(
                actor=museum, order_id=order.pk, date=day,
                pupils_reached=min(order.granted_places, 40) - 2,
            )  # fmt: skip
            if order.school_id == yizhong.school_id:
                catalogue.visit_confirm(actor=yizhong.user, visit_id=visit.pk, rating=5,
                                        comment="讲解生动，学生收获很大")  # fmt: skip
    return passwords
