"""Reads of the homework design library: who sees which design, the layers a teacher may
pick when publishing, and the figures of the report and the dashboard panel.

A school's staff see their school's designs (every status) and the designs the bureau
shared in their district (选优推广); bureau staff of the homework line see every approved
design; parents and institutions see none.
"""

import datetime as dt

from django.db.models import Count, Exists, OuterRef, Q

from homework.design_models import DesignLayer, DesignUse, HomeworkDesign, ReviewMember
from homework.models import HomeworkItem
from portal.access import BUREAU, SCHOOL, kind_of
from portal.models import School, SchoolStaff

S = HomeworkDesign.Status


def _school_q(school) -> Q:
    return Q(school_id=school.pk) | Q(
        shared_on__isnull=False, school__district_id=school.district_id
    )


def visible_designs(user):
    kind = kind_of(user)
    rows = HomeworkDesign.objects.select_related("school", "author")
    if kind == SCHOOL:
        return rows.filter(_school_q(user.school_staff.school))
    if kind == BUREAU:
        return rows.filter(status=S.APPROVED)
    return rows.none()


def library(user, *, grade=None, subject=None, shared_only=False):
    """The approved designs ``user`` may reuse (own school's and the shared ones)."""
    rows = visible_designs(user).filter(status=S.APPROVED)
    if grade:
        rows = rows.filter(grade=grade)
    if subject:
        rows = rows.filter(subject=subject)
    if shared_only:
        rows = rows.filter(shared_on__isnull=False)
    return rows


def mine(user):
    if kind_of(user) != SCHOOL:
        return HomeworkDesign.objects.none()
    return HomeworkDesign.objects.filter(author=user.school_staff).order_by("-submitted_at")


def queue(user):
    """The school's designs awaiting review (for its review group)."""
    if kind_of(user) != SCHOOL:
        return HomeworkDesign.objects.none()
    return (
        HomeworkDesign.objects.filter(school_id=user.school_staff.school_id, status=S.SUBMITTED)
        .select_related("author")
        .order_by("submitted_at")
    )


def reviewers_of(user):
    if kind_of(user) != SCHOOL:
        return ReviewMember.objects.none()
    return ReviewMember.objects.filter(school_id=user.school_staff.school_id).select_related(
        "staff"
    )


def school_staff_of(user):
    if kind_of(user) != SCHOOL:
        return SchoolStaff.objects.none()
    return SchoolStaff.objects.filter(school_id=user.school_staff.school_id).order_by("name")


def usable_layers(school, *, grade=None):
    """The layers a teacher of ``school`` may pick when publishing: of approved designs of the
    school or shared in its district; of ``grade`` when given."""
    rows = DesignLayer.objects.filter(
        Q(design__school_id=school.pk)
        | Q(design__shared_on__isnull=False, design__school__district_id=school.district_id),
        design__status=S.APPROVED,
    ).select_related("design")
    if grade is not None:
        rows = rows.filter(design__grade=grade)
    return rows.order_by("design__subject", "design__unit", "design__title", "level")


def with_designs_flag(classes):
    """Classes annotated with ``has_designs``: whether an approved design of their grade is
    usable by their school (its own or shared in its district), in the classes' own query."""
    usable = HomeworkDesign.objects.filter(
        Q(school_id=OuterRef("school_id"))
        | Q(shared_on__isnull=False, school__district_id=OuterRef("school__district_id")),
        status=S.APPROVED,
        grade=OuterRef("grade"),
    )
    return classes.annotate(has_designs=Exists(usable))


# --- report ----------------------------------------------------------------------------------


def designs_by_school_subject(district_id):
    """{(school_id, subject): {status: n, "shared": n}} and the schools, two queries."""
    schools = list(School.objects.filter(district_id=district_id).order_by("code"))
    rows = (
        HomeworkDesign.objects.filter(school__district_id=district_id)
        .values_list("school_id", "subject", "status")
        .annotate(n=Count("pk"), shared=Count("pk", filter=Q(shared_on__isnull=False)))
    )
    out = {}
    for school_id, subject, status, n, shared in rows:
        cell = out.setdefault((school_id, subject), {"shared": 0})
        cell[status] = cell.get(status, 0) + n
        cell["shared"] += shared
    return schools, out


def drawn_share(district_id, start: dt.date, end: dt.date) -> dict:
    """Per school: published homework items in [start, end] and how many were drawn from a
    reviewed (approved) design. One query."""
    rows = (
        HomeworkItem.objects.filter(
            school_class__school__district_id=district_id,
            date__range=(start, end),
            status=HomeworkItem.Status.PUBLISHED,
        )  # fmt: skip
        .values_list("school_class__school_id")
        .annotate(items=Count("pk"), drawn=Count("design_use"))
    )
    return {school_id: (items, drawn) for school_id, items, drawn in rows}


def uses_of(item_ids):
    return {
        u.item_id: u
        for u in DesignUse.objects.filter(item_id__in=item_ids).select_related("layer__design")
    }
