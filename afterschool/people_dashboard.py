"""Dashboard panel of the people part (portal.dashboard.panel), imported by
afterschool/dashboard.py: the district's volunteers and resource people by vetting state,
with the hours they served in the current term. Two queries: the people with their vetting
dates, and the held lessons' teachers (one UNION query, afterschool.people.hour_rows)."""

from django.utils import timezone

from afterschool import people as svc
from afterschool.models import Lesson, Person
from portal.dashboard import Bar, Filters, Panel, Series, link, panel

OVERVIEW_URL = "/people/overview/"


@panel("afterschool.people", title="志愿者与社会资源人员（按审查状态）", line="afterschool",
       order=48, kept=True)  # fmt: skip
def people(f: Filters) -> Panel:
    today = timezone.localdate()
    rows = Person.objects.filter(district=f.district, active=True).only(
        "pk", "name", *[field for field, _l, _s in svc.VETTING]
    )
    counts = dict.fromkeys(svc.STATE_LABELS, 0)
    for person in rows:
        counts[svc.vetting_state(person, today)] += 1
    bars = [
        Bar(label, counts[key], link(OVERVIEW_URL, district=f.district.pk, state=key))
        for key, label in svc.STATE_LABELS.items()
    ]
    lessons = Lesson.objects.filter(
        offering__school__district=f.district, date__gte=f.start, date__lte=f.end
    )
    minutes = sum(sum(t.values()) for t in svc.hours_by_person(lessons).values())
    return Panel(
        title="", series=[Series("人数", bars)], unit="人",
        figures=[("在册人数", str(sum(counts.values()))),
                 ("本月服务时长", f"{minutes / 60:.1f} 小时")],
    )  # fmt: skip
