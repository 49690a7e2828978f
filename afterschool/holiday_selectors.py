"""Reads of holiday care: a parent's weeks to choose from, the bureau's table of places."""

import datetime as dt

from django.db.models import Count, Q

from afterschool.holiday_models import HostSite, HostWeek
from afterschool.models import Enrolment, PlanItem
from portal.models import SchoolPeriod

LIVE = [Enrolment.Status.ENROLLED, Enrolment.Status.WAITING]


def _counts(offering_ids) -> dict[int, dict[str, int]]:
    """{offering id: {"taken": n, "waiting": n}} in one query."""
    rows = (
        Enrolment.objects.filter(offering_id__in=list(offering_ids), status__in=LIVE)
        .order_by()
        .values("offering_id")
        .annotate(
            taken=Count("pk", filter=Q(status=Enrolment.Status.ENROLLED)),
            waiting=Count("pk", filter=Q(status=Enrolment.Status.WAITING)),
        )
    )
    return {r["offering_id"]: {"taken": r["taken"], "waiting": r["waiting"]} for r in rows}


def activities_of(plan_ids) -> dict[int, list[str]]:
    """The holiday activities of each plan (never 学科辅导): plan id -> labels."""
    out: dict[int, list[str]] = {}
    for plan_id, name, activity in (
        PlanItem.objects.filter(plan_id__in=list(plan_ids))
        .exclude(activity=PlanItem.Activity.SUBJECT)
        .order_by("pk")
        .values_list("plan_id", "name", "activity")
    ):
        out.setdefault(plan_id, []).append(f"{name}（{PlanItem.Activity(activity).label}）")
    return out


def parent_weeks(user, today: dt.date) -> list[dict]:
    """For each child of the parent: the open host sites serving the child's school in
    vacations not yet over, each with its weeks (places left, the child's place)."""
    parent = getattr(user, "parent", None)
    if parent is None:
        return []
    children = list(parent.children.select_related("school").order_by("name", "pk"))
    school_ids = {c.school_id for c in children}
    hosts = list(
        HostSite.objects.filter(
            status=HostSite.Status.OPEN,
            served_schools__in=school_ids,
            vacation__end__gte=today,
            vacation__status__in=[SchoolPeriod.Status.DRAFT, SchoolPeriod.Status.ACTIVE],
        )
        .distinct()
        .select_related("site", "vacation")
        .prefetch_related("served_schools")
        .order_by("vacation__start", "site__name")
    )
    blocks = list(
        HostWeek.objects.filter(host__in=hosts)
        .select_related("offering")
        .order_by("host_id", "week")
    )
    counts = _counts(b.offering_id for b in blocks)
    mine = {
        (e.offering_id, e.child_id): e
        for e in Enrolment.objects.filter(
            offering_id__in=[b.offering_id for b in blocks],
            child__in=children,
            status__in=LIVE,
        )
    }
    acts = activities_of({b.offering.plan_id for b in blocks})
    by_host: dict[int, list] = {}
    for b in blocks:
        by_host.setdefault(b.host_id, []).append(b)
    out = []
    for child in children:
        rows = []
        for host in hosts:
            if child.school_id not in {s.pk for s in host.served_schools.all()}:
                continue
            weeks = []
            for b in by_host.get(host.pk, []):
                c = counts.get(b.offering_id, {"taken": 0, "waiting": 0})
                weeks.append(
                    {
                        "block": b,
                        "offering": b.offering,
                        "left": max(0, b.offering.capacity - c["taken"]),
                        "waiting": c["waiting"],
                        "enrolment": mine.get((b.offering_id, child.pk)),
                        "open": b.offering.status == "published",
                    }
                )
            plan_id = weeks[0]["offering"].plan_id if weeks else None
            rows.append({"host": host, "weeks": weeks, "activities": acts.get(plan_id, [])})
        out.append({"child": child, "hosts": rows})
    return out


def places_table(vacation_id: int | None = None, district=None) -> list[dict]:
    """Places offered / taken / waiting by host site and week (two queries)."""
    blocks = HostWeek.objects.select_related("host__site", "host__vacation", "offering")
    if vacation_id:
        blocks = blocks.filter(host__vacation_id=vacation_id)
    if district is not None:
        blocks = blocks.filter(host__site__district=district)
    blocks = list(blocks.order_by("host__vacation__start", "host__site__name", "week"))
    counts = _counts(b.offering_id for b in blocks)
    return [
        {
            "block": b,
            "host": b.host,
            "offered": b.offering.capacity,
            "taken": counts.get(b.offering_id, {}).get("taken", 0),
            "waiting": counts.get(b.offering_id, {}).get("waiting", 0),
        }
        for b in blocks
    ]


def vacations():
    return SchoolPeriod.objects.exclude(kind=SchoolPeriod.Kind.TERM).order_by("-start")
