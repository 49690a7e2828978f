"""The portal's own nightly checks (the other apps declare theirs in their checks.py)."""

from django.conf import settings
from django.db.models import Exists, OuterRef

from portal.compliance import Found, register
from portal.models import Finding, School, SchoolStaff
from portal.schoolcalendar import missing_years


@register(
    "portal.school.no_principal",
    title="学校没有校长账号",
    severity=Finding.Severity.WARNING,
    over=lambda: School.objects.all(),
)
def school_without_principal(for_date, schools):
    # A school nobody can answer for: its findings, plans and cases have no one to go to.
    principal = SchoolStaff.objects.filter(
        school=OuterRef("pk"), role=SchoolStaff.Role.PRINCIPAL, user__is_active=True
    )
    for school in schools.filter(~Exists(principal)).select_related("district"):
        yield Found(
            subject=school,
            school=school,
            # the school's name only: a school's name already carries its district's
            # ("示范区明德学校"), the district before it read "示范区示范区明德学校"
            message=f"{school.name}没有启用的校长账号，请在管理后台为学校添加校长。",
        )


@register(
    "portal.calendar.next_year_missing",
    title="下一年度节假日安排未录入",
    severity=Finding.Severity.SERIOUS,
)
def calendar_next_year_missing(for_date):
    # The State Council publishes next year's holidays each November (国务院办公厅关于
    # 某年部分节假日安排的通知); from then on a missing year is a finding, because training
    # schedules and homework checks for January cannot be judged without it.
    years = [for_date.year]
    if for_date.month >= settings.PORTAL_CALENDAR_WARN_MONTH:
        years.append(for_date.year + 1)
    for year in missing_years(years):
        yield Found(
            key=str(year),
            message=f"日历中还没有 {year} 年的法定节假日与调休安排，"
            "请按国务院办公厅通知在管理后台录入后再标记该年份。",
        )
