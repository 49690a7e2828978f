"""The one place that decides what a user may see.

Every queryset a school user or a parent touches goes through ``scope``. A model says how
it reaches its school and its parents in a ``SCOPE`` dict of lookups:

    SCOPE = {"school": "school", "parent": "parents__user", "institution": None}

``""`` means the object is the school itself (or, under "institution", the institution
itself), ``None`` that such users see none of it. A training institution's staff (机构端)
are scoped by the "institution" lookup exactly as school staff by "school".
A community site's operators (社区托管点, "site"), an organisation's members (providers
applying to a call, venues of the course catalogue: "organisation") are scoped the same way by
their own lookup; experts ("expert") like parents, by a lookup that reaches their user.
A parent's (or expert's) lookup may be a tuple of lookups: a row is seen when any reaches the
user (a holiday course seen by the parents of every school it serves).
A model without SCOPE is invisible to school users and parents: forgetting to declare it
fails closed.
"""

from dataclasses import dataclass
from functools import cached_property

from django.db.models import Model, Q, QuerySet
from django.http import Http404

BUREAU = "bureau"
SCHOOL = "school"
PARENT = "parent"
INSTITUTION = "institution"
SITE = "site"
ORGANISATION = "organisation"
EXPERT = "expert"
NOBODY = "nobody"

# The account kinds bound to one object, after bureau, school and parent, in the order they
# are tried: (kind, the user's one-to-one related name, the attribute naming the object).
# Each account row has an ``active`` flag: an inactive one is nobody.
BOUND_KINDS = (
    (INSTITUTION, "institution_staff", "institution_id"),
    (SITE, "site_operator", "site_id"),
    (ORGANISATION, "organisation_member", "organisation_id"),
    (EXPERT, "expert", "pk"),
)


@dataclass(frozen=True)
class Viewer:
    user: object

    @cached_property
    def kind(self) -> str:
        user = self.user
        if user is None or not user.is_authenticated or not user.is_active:
            return NOBODY
        if user.is_superuser or user.is_staff:
            return BUREAU
        if getattr(user, "school_staff", None) is not None:
            return SCHOOL
        if getattr(user, "parent", None) is not None:
            return PARENT
        for kind, related, _attr in BOUND_KINDS:
            account = getattr(user, related, None)
            if account is not None and account.active:
                return kind
        return NOBODY

    @property
    def school_id(self):
        return self.user.school_staff.school_id if self.kind == SCHOOL else None

    @property
    def institution_id(self):
        return self.user.institution_staff.institution_id if self.kind == INSTITUTION else None

    @property
    def bound_id(self):
        """The id of the object a bound account (institution, site, organisation) is of."""
        for kind, related, attr in BOUND_KINDS:
            if self.kind == kind:
                return getattr(getattr(self.user, related), attr)
        return None


def viewer(user) -> Viewer:
    return Viewer(user)


def kind_of(user) -> str:
    """The user's kind. A missing related row (a school_staff deleted under a live session)
    is "nobody" through the getattr defaults in Viewer.kind; a database error propagates
    (it is never turned into "nobody", which would show a 403 for an outage)."""
    return viewer(user).kind


def scope(queryset: QuerySet, user) -> QuerySet:
    """``queryset`` narrowed to what ``user`` may see."""
    v = viewer(user)
    if v.kind == BUREAU:
        return queryset
    rules = getattr(queryset.model, "SCOPE", None) or {}
    if v.kind == SCHOOL:
        path = rules.get("school")
        if path is None:
            return queryset.none()
        if path == "":
            return queryset.filter(pk=v.school_id)
        # "<fk>__pk" compiles to the foreign key column itself: no join
        return queryset.filter(**{f"{path}__pk": v.school_id})
    if v.kind in (PARENT, EXPERT):
        path = rules.get(v.kind)
        if path is None:
            return queryset.none()
        paths = (path,) if isinstance(path, str) else path
        reach = Q()
        for p in paths:
            reach |= Q(**{p: v.user})
        # a parent path may cross a many-to-many: keep rows single
        return queryset.filter(reach).distinct()
    if v.kind in (INSTITUTION, SITE, ORGANISATION):
        path = rules.get(v.kind)
        if path is None:
            return queryset.none()
        if path == "":
            return queryset.filter(pk=v.bound_id)
        return queryset.filter(**{f"{path}__pk": v.bound_id})
    return queryset.none()


def get_scoped_or_404(queryset: QuerySet, user, **lookup) -> Model:
    """The object if ``user`` may see it; 404 whether it is missing or someone else's, so
    that a principal cannot even learn that another school's object exists."""
    try:
        return scope(queryset, user).get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404 from None


def client_ip(request) -> str:
    """The client's address for login throttling (django-axes)."""
    from django.conf import settings

    count = settings.PORTAL_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR", "")
