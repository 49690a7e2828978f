"""Reads of complaints (举报/投诉), already scoped and joined, shared by the pages, the admin,
the checks and the dashboard."""

from django.db.models import Count, Prefetch, Q

from institutions import complaints
from institutions.complaint_models import Complaint, ComplaintFile, ComplaintStep
from institutions.models import Institution
from portal.access import SCHOOL, kind_of, scope
from portal.models import School
from portal.permissions import is_school_manager

INSTITUTION_OPTIONS_MAX = 500  # a select a phone can still scroll; the search narrows it


def staff_list(user, *, status=None, line=None, category=None):
    """The complaints of the lines ``user`` handles, with their group's count."""
    rows = Complaint.objects.filter(line__in=complaints.handled_lines(user))
    if status:
        rows = rows.filter(status=status)
    if line:
        rows = rows.filter(line=line)
    if category:
        rows = rows.filter(category=category)
    return rows.select_related("institution", "school", "assigned_school").annotate(
        group_count=Count("repeats", distinct=True)
    )


def school_list(user):
    """The complaints assigned to the school of ``user`` (a principal or 教导处)."""
    if not is_school_manager(user):
        return Complaint.objects.none()
    return scope(Complaint.objects, user).select_related("institution", "school")


def mine(user):
    """A parent's own complaints (Complaint.SCOPE)."""
    return scope(Complaint.objects, user).select_related("institution", "school")


def by_code(code: str) -> Complaint | None:
    normal = complaints.code_normal(code)
    if normal is None:
        return None
    return Complaint.objects.filter(code_digest=complaints.code_digest(normal)).first()


def with_history(queryset):
    return queryset.select_related(
        "institution", "school", "assigned_school", "group_head", "district"
    ).prefetch_related(
        Prefetch("steps", queryset=ComplaintStep.objects.select_related("by").order_by("at", "id")),
        Prefetch("files", queryset=ComplaintFile.objects.order_by("at", "id")),
    )


def school_files(complaint):
    """What a school sees of the files: its answers' own, never the complainant's (they may
    name the complainant)."""
    return [f for f in complaint.files.all() if not f.from_complainant]


def file_for(user, pk: int) -> ComplaintFile | None:
    """The file if ``user`` may see it: the handling staff every file of the complaint; the
    assigned school's managers the answer files of its complaints; nobody else."""
    item = ComplaintFile.objects.select_related("complaint").filter(pk=pk).first()
    if item is None:
        return None
    if complaints.may_handle(user, item.complaint):
        return item
    if kind_of(user) == SCHOOL and is_school_manager(user):
        school_id = user.school_staff.school_id
        if item.complaint.assigned_school_id == school_id and not item.from_complainant:
            return item
    return None


def institution_options(q: str = ""):
    """The register for the form's select: every institution, narrowed by a name search."""
    rows = Institution.objects.select_related("district").only(
        "id", "name", "address", "district__name"
    )
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(address__icontains=q))
    return list(rows.order_by("name", "id")[:INSTITUTION_OPTIONS_MAX])


def school_options():
    return list(School.objects.select_related("district").order_by("district__code", "name"))


def group_members(complaint):
    head = complaint.group_head_id or complaint.pk
    return Complaint.objects.filter(Q(pk=head) | Q(group_head_id=head)).order_by("received_at")
