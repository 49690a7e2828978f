"""POST cases of funding oversight (经费监管, /funding/): the bureau posts a school's per-pupil
subsidy for a term; a school reports the subsidy paid to each teacher for a month."""

import datetime as dt

from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone

from afterschool.funding_models import SubsidyGrant, TeacherPay
from afterschool.models import AfterschoolPolicy
from portal.models import SchoolPeriod, SchoolStaff
from tests.post_routes import Case, case, staff_of


@case("funding:subsidy", refused=("anonymous", "school", "teacher", "parent", "bureau_homework",
                                  "staff_without_group", "other_school"))  # fmt: skip
def subsidy(w):
    today = timezone.localdate()
    term = SchoolPeriod.objects.create(
        district=w.school_a.district, name="本学期", kind="term",
        start=today - dt.timedelta(days=20), end=today + dt.timedelta(days=40), status="active",
    )  # fmt: skip
    form = {"school": w.school_a.pk, "term": term.pk, "pupils": ""}
    return Case(
        url=reverse("funding:subsidy"),
        user=staff_of("课后服务", "bureau_as"),
        valid=form,
        state=lambda: list(SubsidyGrant.objects.values_list("school_id", "term_id", "amount")),
        audit="afterschool.funding.subsidy_posted",
        invalid=form | {"pupils": "-1"},
        error="学生数应为 0 至 100000 之间的整数。",
    )


@case("funding:pay", refused=("anonymous", "teacher", "parent", "bureau_afterschool",
                              "staff_without_group"))  # fmt: skip
def pay(w):
    AfterschoolPolicy.current()  # the page reads the floor (its first read creates the row)
    teacher = SchoolStaff.objects.get(user=w.teacher_a)
    month = timezone.localdate().replace(day=1) - relativedelta(months=1)
    form = {"month": f"{month:%Y-%m}", f"amount_{teacher.pk}": "150"}
    return Case(
        url=reverse("funding:pay"),
        user=w.principal_a,
        valid=form,
        state=lambda: list(TeacherPay.objects.values_list("staff_id", "month", "amount")),
        audit="afterschool.funding.teacher_pay_reported",
        invalid=form | {f"amount_{teacher.pk}": "-1"},
        error="甲老师的实发补助应为 0 至 100000 元、最多两位小数的金额。",
    )
