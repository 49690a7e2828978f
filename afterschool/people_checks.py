"""Nightly checks of the people part (portal.compliance.register), imported by
afterschool/checks.py.

Three rules, each chunked over its subjects and idempotent (a finding stays open while the
run still sees it and resolves when fixed):

- ``afterschool.people.vetting_expiring``: a person on the register whose 无犯罪记录证明,
  健康证明 or 安全培训 expires within PEOPLE_VETTING_WARN_DAYS (a warning);
- ``afterschool.people.vetting_lapsed``: one that has expired or was never entered, for a
  person named on a course that is not over (serious: they may be teaching children);
- ``afterschool.people.lesson_flagged``: a course with scheduled lessons from today on taught
  by someone whose vetting lapses by the lesson's day (serious; one finding per course).

Findings name the person and the record, never a phone number.
"""

import datetime as dt

from django.conf import settings

from afterschool import people as svc
from afterschool.models import Offering, OfferingPerson, Person
from portal.compliance import Found, register
from portal.models import Finding

LIVE = [Offering.Status.DRAFT, Offering.Status.PUBLISHED]


@register(
    "afterschool.people.vetting_expiring",
    title="志愿者/社会资源人员审查即将到期",
    severity=Finding.Severity.WARNING,
    over=lambda: Person.objects.all(),
)
def vetting_expiring(for_date, people):
    warn = for_date + dt.timedelta(days=settings.PEOPLE_VETTING_WARN_DAYS)
    for person in people.filter(active=True).select_related("school"):
        if svc.lapses(person, for_date):
            continue  # the serious rule's, when they teach
        soon = [
            (label, svc.valid_until(f, getattr(person, f)))
            for f, label, _s in svc.VETTING
            if svc.valid_until(f, getattr(person, f)) < warn
        ]
        if soon:
            yield Found(
                subject=person,
                school=person.school,
                message=f"{person.name}的"
                + "、".join(f"{label}将于 {d} 到期" for label, d in soon)
                + f"（提前 {settings.PEOPLE_VETTING_WARN_DAYS} 天提醒），请及时补办。",
            )


@register(
    "afterschool.people.vetting_lapsed",
    title="授课的志愿者/社会资源人员审查已过期",
    severity=Finding.Severity.SERIOUS,
    over=lambda: Person.objects.all(),
)
def vetting_lapsed(for_date, people):
    teaching = OfferingPerson.objects.filter(offering__status__in=LIVE).values("person_id")
    rows = people.filter(active=True, pk__in=teaching).select_related("school")
    for person in rows:
        reasons = svc.lapses(person, for_date)
        if reasons:
            yield Found(
                subject=person,
                school=person.school,
                message="；".join(reasons) + "。审查不合格的人员不能安排授课。",
            )


@register(
    "afterschool.people.lesson_flagged",
    title="已排课次的授课人员审查过期",
    severity=Finding.Severity.SERIOUS,
    over=lambda: Offering.objects.all(),
)
def lesson_flagged(for_date, offerings):
    live = offerings.filter(status=Offering.Status.PUBLISHED).select_related("school")
    by_course: dict[int, list] = {}
    for lesson, person, reasons in svc.flagged_lessons(live, for_date):
        by_course.setdefault(lesson.offering_id, []).append((lesson, person, reasons))
    courses = {o.pk: o for o in live.filter(pk__in=list(by_course))}
    for pk, flags in sorted(by_course.items()):
        offering = courses[pk]
        names = "、".join(dict.fromkeys(p.name for _l, p, _r in flags))
        yield Found(
            subject=offering,
            school=offering.school,
            message=f"{offering.school.name}的课程“{offering.name}”有 {len(flags)} 个已排课次"
            f"（最早 {flags[0][0].date}）的授课人员{names}审查过期或未登记，请更换人员或补登审查。",
        )
