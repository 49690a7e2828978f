"""Reads shared by the portal's views, already scoped and with their joins."""

from django.db.models import Count, Q

from portal.access import scope
from portal.models import Child, Finding, School, SchoolClass, SchoolStaff


def school_of(user) -> School:
    return School.objects.select_related("district").get(pk=user.school_staff.school_id)


def classes_for(user):
    return (
        scope(SchoolClass.objects.all(), user)
        .select_related("school", "head_teacher")
        .annotate(pupils=Count("children"))
        .order_by("grade", "number")
    )


def staff_for(user):
    return scope(SchoolStaff.objects.all(), user).select_related("user").order_by("role", "name")


def findings_for(user, *, open_only=True):
    """A school's findings: about it, or assigned to it by the bureau (portal.findings)."""
    from portal.access import SCHOOL, kind_of
    from portal.findings import for_school

    base = (
        for_school(user.school_staff.school_id)
        if kind_of(user) == SCHOOL
        else scope(Finding.objects.all(), user)
    )
    qs = base.select_related("school", "content_type")
    if open_only:
        qs = qs.filter(resolved_at=None)
    return qs.order_by("-last_seen", "rule")


def finding_counts_for(user) -> dict:
    return scope(Finding.objects.all(), user).aggregate(
        open=Count("pk", filter=Q(resolved_at=None)),
        serious=Count("pk", filter=Q(resolved_at=None, severity=Finding.Severity.SERIOUS)),
    )


def children_for(user):
    return (
        scope(Child.objects.all(), user)
        .select_related("school", "school_class", "school_class__head_teacher")
        .order_by("name")
    )
