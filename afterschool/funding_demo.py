"""Demo of funding oversight, written through its services (afterschool/funding.py): the
autumn term's per-pupil subsidy posted for every school of the district, and 实验小学's
teachers' subsidy report of last month with one teacher paid under the floor (the nightly
check finds it). Idempotent: a second run posts nothing again."""

from dateutil.relativedelta import relativedelta
from django.contrib.auth import get_user_model
from django.utils import timezone

from afterschool import funding
from afterschool.funding_models import SubsidyGrant, TeacherPay
from portal.models import School, SchoolPeriod, SchoolStaff

TERM = "2026-2027学年第一学期"


def build(*, bureau_username="bureau_afterschool", principal_username="principal_shiyan"):
    """Returns the lines the demo prints (empty when its accounts or term are missing)."""
    user = get_user_model()
    bureau = user.objects.filter(username=bureau_username).first()
    principal = user.objects.filter(username=principal_username).first()
    term = SchoolPeriod.objects.filter(name=TERM, kind=SchoolPeriod.Kind.TERM).first()
    if bureau is None or term is None:
        return []
    lines = []
    posted = 0
    for school in School.objects.filter(district_id=term.district_id).order_by("code"):
        if SubsidyGrant.objects.filter(school=school, term=term).exists():
            continue
        if not funding.pupils_of(school.pk):
            continue  # nothing to post for a school without pupils on the portal
        funding.subsidy_post(actor=bureau, school_id=school.pk, term_id=term.pk)
        posted += 1
    if posted:
        lines.append(f"经费监管：{term.name}财政奖补已为 {posted} 所学校入账")
    if principal is None or getattr(principal, "school_staff", None) is None:
        return lines
    month = funding.month_start(timezone.localdate()) - relativedelta(months=1)
    school_id = principal.school_staff.school_id
    held = funding.lessons_held([school_id], month, funding.month_end(month))
    amounts = {}
    for (_s, staff_id, _m), n in sorted(held.items()):
        if TeacherPay.objects.filter(staff_id=staff_id, month=month).exists():
            continue
        # the first teacher paid 40 元 a lesson (under the 50 元 floor), the others in full
        rate = 40 if not amounts else 50
        amounts[staff_id] = str(rate * n)
    if amounts:
        funding.teacher_pay_report(actor=principal, month=month, amounts=amounts)
        names = SchoolStaff.objects.filter(pk__in=amounts).values_list("name", flat=True)
        lines.append(f"经费监管：{month:%Y-%m} 课时补助月报已上报（{'、'.join(names)}）")
    return lines
