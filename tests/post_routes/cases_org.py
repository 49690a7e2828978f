"""POST cases of the institution's side (/org/, namespace "org"): its staff, its course
filings, the public account request, and the bureau's accounts and filing queues."""

from django.urls import reverse

from institutions import accounts, services
from institutions.account_models import AccountRequest, InstitutionStaff
from institutions.models import Course
from tests.factories import InstitutionStaffFactory
from tests.institutions.org_helpers import COURSE, COURSE_DATA, COURSE_SLOTS, org_world
from tests.post_routes import Case, case, staff_of

# the institution's pages: anonymous → login; a school, a parent, bureau staff → 403; the
# "teacher" slot is a member of the same institution without the role (who=...)
ORG_REFUSED = ("anonymous", "school", "parent", "bureau_homework", "teacher")
# the bureau's queues: training staff only
BUREAU_REFUSED = ("anonymous", "school", "parent", "bureau_homework", "bureau_afterschool",
                  "staff_without_group", "other_institution")  # fmt: skip


def _world(w):
    staff = staff_of("校外培训", "xiaowai")
    return org_world(w, staff=staff)


def _staff_rows():
    return list(InstitutionStaff.objects.order_by("pk").values_list("name", "role", "active"))


def _courses():
    return list(Course.objects.order_by("pk").values_list("name", "price_per_lesson", "filing"))


@case("org:staff", refused=ORG_REFUSED)
def staff_add(w):
    _s, inst, admin = _world(w)
    desk = InstitutionStaffFactory(institution=inst, role="desk", user__username="desk")
    return Case(
        url=reverse("org:staff"),
        user=admin,
        valid={"username": "fin1", "name": "会计", "role": "finance"},
        state=_staff_rows,
        audit="institutions.account.staff_added",
        invalid={"username": "fin1", "name": "会计", "role": ""},
        error="请选择角色",
        who={"teacher": desk.user},
    )


@case("org:staff_deactivate", refused=(*ORG_REFUSED, "other_institution"))
def staff_deactivate(w):
    _s, inst, admin = _world(w)
    desk = InstitutionStaffFactory(institution=inst, role="desk", user__username="desk")
    return Case(
        url=reverse("org:staff_deactivate", args=[desk.pk]),
        user=admin,
        valid={},
        state=_staff_rows,
        audit="institutions.account.staff_deactivated",
        invalid={},
        invalid_url=reverse("org:staff_deactivate", args=[admin.institution_staff.pk]),
        error="不能停用自己的账号",
        who={"teacher": InstitutionStaffFactory(institution=inst, role="finance").user},
    )


@case("org:course_new", refused=ORG_REFUSED)
def course_new(w):
    _s, inst, admin = _world(w)
    finance = InstitutionStaffFactory(institution=inst, role="finance", user__username="fin")
    return Case(
        url=reverse("org:course_new"),
        user=admin,
        valid=COURSE,
        state=_courses,
        audit="institutions.course.filed",
        invalid={**COURSE, "price_per_lesson": "27.51"},
        error="超过政府指导价",
        who={"teacher": finance.user},
    )


@case("org:course_edit", refused=(*ORG_REFUSED, "other_institution"))
def course_edit(w):
    staff, inst, admin = _world(w)
    course = services.course_file(actor=admin, slots=COURSE_SLOTS, **COURSE_DATA)
    services.course_filing_decide(actor=staff, course_id=course.pk, approve=True)
    finance = InstitutionStaffFactory(institution=inst, role="finance", user__username="fin")
    return Case(
        url=reverse("org:course_edit", args=[course.pk]),
        user=admin,
        valid={**COURSE, "price_per_lesson": "26"},
        state=_courses,
        audit="institutions.course.filed",
        invalid={**COURSE, "slots": "周三 20:00-20:45"},
        error="20:30 前结束",
        who={"teacher": finance.user},
    )


@case("org:request", refused=())
def request(w):
    _s, inst, _admin = _world(w)
    accounts.rate_clear("127.0.0.1")  # the test client's address: runs of the suite add up
    other = org_world(w, staff=_s, name="尚无账号的培训学校", username="unused")[1]
    InstitutionStaff.objects.filter(institution=other).delete()
    return Case(
        url=reverse("org:request", args=[other.pk]),
        user=None,
        valid={"contact_name": "王老师", "contact_phone": "13812345678"},
        state=lambda: list(AccountRequest.objects.values_list("institution", "status")),
        audit="institutions.account.requested",
        invalid={"contact_name": "王老师", "contact_phone": "12345"},
        error="联系电话应为11位手机号",
        no_refused="the public request form: no account needed (throttled per address)",
    )


def _no_admin_institution(w):
    staff, _inst, _admin = _world(w)
    other = org_world(w, staff=staff, name="尚无账号的培训学校", username="unused")[1]
    InstitutionStaff.objects.filter(institution=other).delete()
    return staff, other


@case("org:account_new", refused=BUREAU_REFUSED)
def account_new(w):
    staff, other = _no_admin_institution(w)
    return Case(
        url=reverse("org:account_new", args=[other.pk]),
        user=staff,
        valid={"username": "shangwu", "name": "王校长"},
        state=_staff_rows,
        audit="institutions.account.created",
        invalid={"username": "bad name!", "name": "王校长"},
        error="登录账号只能包含字母",
    )


@case("org:request_decide", refused=BUREAU_REFUSED)
def request_decide(w):
    staff, other = _no_admin_institution(w)
    row = accounts.account_request_file(
        institution_id=other.pk, contact_name="王老师", contact_phone="13812345678"
    )
    return Case(
        url=reverse("org:request_decide", args=[row.pk]),
        user=staff,
        valid={"decision": "approve", "username": "shangwu"},
        state=lambda: list(AccountRequest.objects.values_list("status", "staff")),
        audit="institutions.account.request_",
        invalid={"decision": "reject", "reason": ""},
        error="不予开通时请填写理由",
    )


@case("org:filing_decide", refused=BUREAU_REFUSED)
def filing_decide(w):
    staff, _inst, admin = _world(w)
    course = services.course_file(actor=admin, slots=COURSE_SLOTS, **COURSE_DATA)
    return Case(
        url=reverse("org:filing_decide", args=[course.pk]),
        user=staff,
        valid={"decision": "approve"},
        state=_courses,
        audit="institutions.course.approved",
        invalid={"decision": "return", "reason": ""},
        error="退回时请填写理由",
    )


@case("org:password", refused=("anonymous", "school", "parent", "bureau_homework"))
def password(w):
    from django.contrib.auth import get_user_model

    from tests.factories import PASSWORD

    _s, _inst, admin = _world(w)
    new = "Xin-mima-2026-jigou"
    return Case(
        url=reverse("org:password"),
        user=admin,
        valid={"old_password": PASSWORD, "new_password1": new, "new_password2": new},
        state=lambda: get_user_model().objects.get(pk=admin.pk).password,
        audit="auth.password_changed",
        invalid={"old_password": "wrong-one", "new_password1": new, "new_password2": new},
        error="旧密码不正确",
    )
