"""Reads of the people register, scoped (portal.access.scope) and joined once."""

import datetime as dt

from django.db.models import Q

from afterschool import people as svc
from afterschool.models import Lesson, Person
from portal.access import scope
from portal.models import SchoolPeriod


def register(user):
    return scope(Person.objects.select_related("provider", "school", "site"), user)


def current_term_ids(district_id: int, today: dt.date) -> list[int]:
    return list(
        SchoolPeriod.objects.filter(district_id=district_id, kind=SchoolPeriod.Kind.TERM,
                                    start__lte=today, end__gte=today).values_list("pk", flat=True)
    )  # fmt: skip


def rows(people, today: dt.date, term_ids=None) -> list[dict]:
    """Each person with their vetting state, next expiry, and minutes served in ``term_ids``
    (two queries: the people, their held lessons)."""
    people = list(people)
    minutes = {}
    if people and term_ids:
        lessons = Lesson.objects.filter(offering__plan__term_id__in=term_ids)
        for person_id, terms in svc.hours_by_person(lessons).items():
            minutes[person_id] = sum(terms.values())
    out = []
    for p in people:
        state = svc.vetting_state(p, today)
        out.append({
            "person": p, "state": state, "state_label": svc.STATE_LABELS[state],
            "expires": svc.next_expiry(p), "reasons": svc.lapses(p, today),
            "minutes": minutes.get(p.pk, 0), "hours": round(minutes.get(p.pk, 0) / 60, 1),
        })  # fmt: skip
    return out


def district_people(district_id: int):
    return Person.objects.filter(district_id=district_id, active=True).select_related(
        "provider", "school", "site"
    )


def offering_people(offering):
    return offering.people.select_related(
        "person__provider", "person__site", "person__school"
    ).order_by("role", "pk")


def lesson_people(lessons) -> dict[int, list]:
    from afterschool.models import LessonPerson

    out: dict[int, list] = {}
    for row in LessonPerson.objects.filter(lesson__in=lessons).select_related("person"):
        out.setdefault(row.lesson_id, []).append(row.person)
    return out


def search(qs, q: str):
    q = (q or "").strip()
    if not q:
        return qs
    return qs.filter(Q(name__icontains=q) | Q(venue__icontains=q) | Q(provider__name__icontains=q))
