"""Reads of enforcement shared by the staff pages, the public pages and the dashboard.

Public reads (``public_*``, ``institution_record``) carry no inspector, no attendee, no
complainant: only the institution, what it did and what was decided."""

from django.db.models import Count, Exists, OuterRef, Prefetch, Q

from institutions.enforcement_models import (
    EnforcementNotice,
    InspectionRound,
    Interview,
    NoticeEntry,
    PatrolSite,
    PlannedVisit,
    Sanction,
    Visit,
    VisitItem,
)
from institutions.models import Institution
from portal.models import Finding


def _visited(round_field="round"):
    return Visit.objects.filter(round=OuterRef(round_field), institution=OuterRef("institution"))


def round_progress(qs=None, *, district=None):
    """Rounds with their planned, visited and with-failed-items counts (of ``district``'s
    institutions when given): three subquery counts, one query whatever the size."""
    planned = PlannedVisit.objects.all()
    if district is not None:
        planned = planned.filter(institution__district=district)
    visited = Visit.objects.filter(round=OuterRef("round"), institution=OuterRef("institution"))
    failed = visited.filter(items__passed=False)
    planned = planned.annotate(visited=Exists(visited), failed=Exists(failed))
    rows = {}
    for rnd_id, v, f in planned.values_list("round_id", "visited", "failed"):
        counts = rows.setdefault(rnd_id, [0, 0, 0])
        counts[0] += 1
        counts[1] += v
        counts[2] += f
    rounds = list(qs if qs is not None else InspectionRound.objects.order_by("-starts_on", "-id"))
    for rnd in rounds:
        rnd.n_planned, rnd.n_visited, rnd.n_failed = rows.get(rnd.pk, [0, 0, 0])
    return rounds


def round_detail(pk: int) -> InspectionRound:
    return (
        InspectionRound.objects.select_related("draw_district")
        .prefetch_related(
            "groups__inspectors",
            Prefetch(
                "planned",
                queryset=PlannedVisit.objects.select_related("institution", "group").annotate(
                    visited=Exists(_visited()),
                ),
            ),
        )
        .get(pk=pk)
    )


def staff_institution(pk: int) -> Institution:
    """An institution with its visits (items, photos), 约谈, sanctions and notices."""
    return (
        Institution.objects.select_related("district")
        .prefetch_related(
            Prefetch(
                "visits",
                queryset=Visit.objects.select_related("round", "inspector").prefetch_related(
                    "items", "photos"
                ),
            ),
            Prefetch("interviews", queryset=Interview.objects.select_related("follow_up_visit")),
            Prefetch("sanctions", queryset=Sanction.objects.all()),
        )
        .get(pk=pk)
    )


def inspection_findings(institution_id: int):
    return Finding.objects.filter(
        institution_id=institution_id, rule__startswith="institutions.", resolved_at=None
    ).order_by("-first_seen", "-id")


def patrol_sites():
    return PatrolSite.objects.select_related("district", "round").order_by("-found_on", "-id")


def institution_record(institution_id: int) -> dict:
    """处理记录 of the public page: sanctions and the notices naming the institution."""
    sanctions = list(
        Sanction.objects.filter(institution_id=institution_id)
        .only("kind", "decided_on", "reason", "deadline", "closed_on", "institution_id")
        .order_by("-decided_on", "-id")
    )
    entries = list(
        NoticeEntry.objects.filter(institution_id=institution_id)
        .select_related("notice")
        .only("violation", "outcome", "notice__title", "notice__date", "notice_id")
        .order_by("-notice__date", "-id")
    )
    return {"sanctions": sanctions, "notice_entries": entries}


def public_notices():
    return EnforcementNotice.objects.annotate(n=Count("entries")).order_by("-date", "-id")


def public_notice(pk: int) -> EnforcementNotice:
    entries = NoticeEntry.objects.select_related("institution", "sanction").order_by("id")
    return EnforcementNotice.objects.prefetch_related(Prefetch("entries", queryset=entries)).get(
        pk=pk
    )


def sanctions_by_kind(*, district, start, end) -> dict[str, int]:
    return dict(
        Sanction.objects.filter(
            institution__district=district, decided_on__gte=start, decided_on__lte=end
        )
        .values_list("kind")
        .annotate(n=Count("pk"))
    )


def open_sanctions(institution_id: int):
    return Sanction.objects.filter(institution_id=institution_id).filter(
        Q(kind__in=[Sanction.Kind.RECTIFY, Sanction.Kind.SUSPEND]), closed_on__isnull=True
    )


def failed_items(visit: Visit):
    return VisitItem.objects.filter(visit=visit, passed=False)
