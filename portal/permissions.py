"""The one permission module: every view says here who may open it.

Kinds of user come from ``portal.access`` (bureau, school, parent). What a kind may *see* is
``scope()``'s job; what a user may *open* is decided here, once:

- ``bureau_required(line=..., perm=...)``: bureau staff of a line of work (``is_bureau``),
  and for writes also ``perm``.
- ``kind_required(SCHOOL)`` / ``kind_required(PARENT)``: school staff, parents.
- ``school_manager_required``: a principal or the 教导处 of their school.
- ``institution_required(*roles)``: a training institution's own staff (机构端), of one of
  ``roles`` (InstitutionStaff.Role) when given; ``is_institution_staff`` for services.

Anonymous users get the portal's login page, everyone else refused gets the portal's 403
page (never the admin's login). Services check the same predicates (``is_bureau``,
``is_school_manager``) before they write.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from portal.access import BUREAU, EXPERT, INSTITUTION, ORGANISATION, PARENT, SCHOOL, SITE, kind_of

__all__ = [
    "BUREAU",
    "EXPERT",
    "INSTITUTION",
    "ORGANISATION",
    "SITE",
    "LINES",
    "PARENT",
    "SCHOOL",
    "bureau_of_line",
    "bureau_required",
    "institution_required",
    "is_bureau",
    "is_expert",
    "is_organisation_member",
    "is_site_operator",
    "is_institution_staff",
    "is_principal",
    "is_school_manager",
    "kind_required",
    "require",
    "school_manager_required",
    "expert_required",
    "organisation_required",
    "site_required",
]

# The lines of work: bureau staff of a line hold some permission of its app (their group,
# portal.setup.STAFF_GROUPS, gives them all of them). "portal" is the shared core.
LINES = ("institutions", "homework", "afterschool", "cases", "governance", "supply", "portal")


def is_bureau(user, line: str | None = None, perm: str | None = None) -> bool:
    """Bureau staff; of ``line`` when given (any permission of that app); holding ``perm``
    when given. The one definition of "bureau staff of line X"."""
    if kind_of(user) != BUREAU:
        return False
    if line is not None:
        if line not in LINES:
            raise ValueError(f"unknown line of work: {line}")
        if not user.has_module_perms(line):
            return False
    return perm is None or user.has_perm(perm)


def bureau_of_line(line: str):
    """The users for whom ``is_bureau(user, line)`` holds, as a queryset: active staff with
    some permission of the line's app (through a group or their own), and superusers."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    if line not in LINES:
        raise ValueError(f"unknown line of work: {line}")
    of_line = Q(groups__permissions__content_type__app_label=line) | Q(
        user_permissions__content_type__app_label=line
    )
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(is_staff=True) & of_line)
        .distinct()
    )


def is_school_manager(user, school_id=None) -> bool:
    """A principal or the 教导处 (SchoolStaff.MANAGER_ROLES), of ``school_id`` when given."""
    from portal.models import SchoolStaff

    if kind_of(user) != SCHOOL:
        return False
    staff = user.school_staff
    if staff.role not in SchoolStaff.MANAGER_ROLES:
        return False
    return school_id is None or staff.school_id == school_id


def is_principal(user, school_id=None) -> bool:
    """The 校长 of a school (of ``school_id`` when given): who designates the school's care
    staff and homework review group (portal.designations)."""
    from portal.models import SchoolStaff

    if kind_of(user) != SCHOOL:
        return False
    staff = user.school_staff
    if staff.role != SchoolStaff.Role.PRINCIPAL:
        return False
    return school_id is None or staff.school_id == school_id


def is_institution_staff(user, roles=None, institution_id=None) -> bool:
    """Active staff of a training institution (InstitutionStaff), holding one of ``roles``
    when given, of ``institution_id`` when given."""
    if kind_of(user) != INSTITUTION:
        return False
    staff = user.institution_staff
    if roles is not None and staff.role not in roles:
        return False
    return institution_id is None or staff.institution_id == institution_id


def is_site_operator(user, site_id=None) -> bool:
    """An active operator of a community care site (afterschool SiteOperator), of
    ``site_id`` when given."""
    if kind_of(user) != SITE:
        return False
    return site_id is None or user.site_operator.site_id == site_id


def is_organisation_member(user, organisation_id=None, roles=None) -> bool:
    """An active member of an organisation (supply Organisation: a provider applying to a
    call, a venue of the course catalogue), of ``organisation_id`` and one of ``roles``
    when given."""
    if kind_of(user) != ORGANISATION:
        return False
    member = user.organisation_member
    if roles is not None and member.role not in roles:
        return False
    return organisation_id is None or member.organisation_id == organisation_id


def is_expert(user) -> bool:
    """An active member of the bureau's expert pool (supply Expert)."""
    return kind_of(user) == EXPERT


def require(allowed: bool) -> None:
    """For services: refuse (PermissionDenied, a 403) unless ``allowed``."""
    if not allowed:
        raise PermissionDenied


def _decorator(test):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not test(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.portal_test = test  # what the navigation asks before it shows a link
        return wrapped

    return decorator


def passes(test):
    """Users for whom ``test(user)`` holds: a view's own rule, which the navigation asks
    before it shows a link (``portal.templatetags.nav``)."""
    return _decorator(test)


def bureau_required(line: str | None = None, perm: str | None = None):
    """Bureau staff of ``line`` (and holding ``perm`` when given)."""
    if line is not None and line not in LINES:
        raise ValueError(f"unknown line of work: {line}")
    return _decorator(lambda user: is_bureau(user, line, perm))


def kind_required(*kinds: str):
    """Users of one of ``kinds`` (SCHOOL, PARENT, BUREAU)."""
    return _decorator(lambda user: kind_of(user) in kinds)


def institution_required(*roles: str):
    """A training institution's staff; of one of ``roles`` when given."""
    return _decorator(lambda user: is_institution_staff(user, roles or None))


def site_required(view):
    """A community care site's operator."""
    return _decorator(is_site_operator)(view)


def organisation_required(*roles: str):
    """An organisation's member; of one of ``roles`` when given."""
    return _decorator(lambda user: is_organisation_member(user, roles=roles or None))


def expert_required(view):
    """A member of the bureau's expert pool."""
    return _decorator(is_expert)(view)


def school_manager_required(view):
    """A principal or the 教导处 of a school."""
    return _decorator(is_school_manager)(view)
