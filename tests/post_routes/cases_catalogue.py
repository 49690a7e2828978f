"""POST cases of the course catalogue (公益课程包, /catalogue/, issue 19 part 3): a museum
publishes, a school orders (over the capacity refused), the bureau dispatches and withdraws
and sets the rural register, the museum records a visit, the school confirms and rates it.

The builders at the top are shared with tests/supply/test_catalogue*.py."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from portal.models import SchoolPeriod
from supply import catalogue
from supply.catalogue_models import (
    CatalogueOrder,
    CataloguePackage,
    CatalogueVisit,
    SchoolLocality,
)
from tests.factories import OrganisationMemberFactory
from tests.post_routes import Case, case, staff_of

# --- builders ------------------------------------------------------------------------------


def term_for(district, *, days=60):
    """An active term of the district around today."""
    today = timezone.localdate()
    term, _ = SchoolPeriod.objects.get_or_create(
        district=district,
        kind=SchoolPeriod.Kind.TERM,
        name="本学期",
        defaults={
            "start": today - dt.timedelta(days=days),
            "end": today + dt.timedelta(days=days),
            "status": SchoolPeriod.Status.ACTIVE,
        },
    )
    return term


def venue_member(kind="museum", username="museum_admin", name="区博物馆"):
    return OrganisationMemberFactory(
        user__username=username, organisation__kind=kind, organisation__name=name
    ).user


def bureau_user(username="cat_bureau"):
    """Bureau staff of 课后服务 (the supply line, with its permissions)."""
    return staff_of("课后服务", username)


def make_package(member, term, **kw):
    today = timezone.localdate()
    data = {
        "title": "博物馆里的历史课",
        "kind": "history",
        "grades": [3, 4, 5],
        "visits": 3,
        "places_per_visit": 40,
        "mode": "travel",
        "window_start": today - dt.timedelta(days=30),
        "window_end": today + dt.timedelta(days=30),
        "description": "",
    }
    data.update(kw)
    return catalogue.package_publish(actor=member, term_id=term.pk, **data)


def make_order(principal, package, pupils=40, dates=None):
    return catalogue.order_place(
        actor=principal,
        package_id=package.pk,
        pupils=pupils,
        preferred_dates=dates or [package.window_start],
    )


def dispatched_order(w, member=None, bureau=None):
    """A museum's package ordered by school A and dispatched: (member, order, bureau)."""
    member = member or venue_member()
    bureau = bureau or bureau_user()
    package = make_package(member, term_for(w.school_a.district))
    order = make_order(w.principal_a, package, pupils=60)
    catalogue.dispatch(actor=bureau, package_id=package.pk)
    order.refresh_from_db()
    return member, order, bureau


# --- the cases -----------------------------------------------------------------------------


@case(
    "catalogue:package_new",
    refused=("anonymous", "school", "teacher", "parent", "bureau_afterschool",
             "other_organisation", "other_site", "other_expert"),
)  # fmt: skip
def package_new(w):
    member = venue_member()
    term = term_for(w.school_a.district)
    today = timezone.localdate()
    valid = {
        "term": term.pk, "title": "科技馆里的物理课", "kind": "science", "mode": "travel",
        "grades": [4, 5], "visits": 2, "places_per_visit": 45,
        "window_start": today.isoformat(),
        "window_end": (today + dt.timedelta(days=20)).isoformat(),
    }  # fmt: skip
    invalid = dict(valid, window_end=(term.end + dt.timedelta(days=1)).isoformat())
    return Case(
        url=reverse("catalogue:package_new"),
        user=member,
        valid=valid,
        state=lambda: CataloguePackage.objects.count(),
        audit="supply.catalogue.package_published",
        invalid=invalid,
        error=f"服务时段应在所选学期内（{term.start:%Y-%m-%d}至{term.end:%Y-%m-%d}）。",
    )


@case(
    "catalogue:order_new",
    refused=("anonymous", "teacher", "parent", "bureau_afterschool", "other_organisation",
             "staff_without_group"),
)  # fmt: skip
def order_new(w):
    package = make_package(venue_member(), term_for(w.school_a.district))
    date = package.window_start.isoformat()
    return Case(
        url=reverse("catalogue:order_new", args=[package.pk]),
        user=w.principal_a,
        valid={"pupils": 120, "preferred_dates": date, "note": "三年级两个班"},
        state=lambda: CatalogueOrder.objects.count(),
        audit="supply.catalogue.ordered",
        invalid={"pupils": 121, "preferred_dates": date},
        error="点单人数 121 人超过课程包容量：场次 3 × 每场名额 40 人 = 120 人"
        "（点单不得超过容量）。",
    )


@case(
    "catalogue:dispatch",
    refused=("anonymous", "school", "parent", "bureau_homework", "staff_without_group",
             "other_organisation"),
)  # fmt: skip
def dispatch(w):
    member = venue_member()
    term = term_for(w.school_a.district)
    package = make_package(member, term)
    make_order(w.principal_a, package, pupils=40)
    empty = make_package(member, term, title="无人点单的课程包")
    return Case(
        url=reverse("catalogue:dispatch", args=[package.pk]),
        user=bureau_user(),
        valid={},
        state=lambda: list(
            CatalogueOrder.objects.order_by("pk").values_list("status", "granted_visits")
        ),
        audit="supply.catalogue.dispatched",
        invalid={},
        invalid_url=reverse("catalogue:dispatch", args=[empty.pk]),
        error="该课程包还没有学校点单，无需派单。",
    )


@case(
    "catalogue:withdraw",
    refused=("anonymous", "school", "parent", "bureau_homework", "staff_without_group",
             "other_organisation"),
)  # fmt: skip
def withdraw(w):
    package = make_package(venue_member(), term_for(w.school_a.district))
    make_order(w.principal_a, package)
    return Case(
        url=reverse("catalogue:withdraw", args=[package.pk]),
        user=bureau_user(),
        valid={"reason": "场馆闭馆维修"},
        state=lambda: (
            list(CataloguePackage.objects.values_list("status", flat=True))
            + list(CatalogueOrder.objects.values_list("status", flat=True))
        ),
        audit="supply.catalogue.package_withdrawn",
        invalid={"reason": ""},
        error="请填写撤下原因。",
    )


@case(
    "catalogue:visit_new",
    refused=("anonymous", "school", "parent", "bureau_afterschool", "other_organisation"),
)  # fmt: skip
def visit_new(w):
    member, order, _bureau = dispatched_order(w)
    today = timezone.localdate().isoformat()
    return Case(
        url=reverse("catalogue:visit_new", args=[order.pk]),
        user=member,
        valid={"date": today, "pupils_reached": 38},
        state=lambda: CatalogueVisit.objects.count(),
        audit="supply.catalogue.visit_recorded",
        invalid={"date": today, "pupils_reached": 41},
        error="服务学生数 41 人超过每场名额 40 人。",
    )


@case(
    "catalogue:visit_confirm",
    refused=("anonymous", "teacher", "other_school", "parent", "bureau_afterschool",
             "other_organisation"),
)  # fmt: skip
def visit_confirm(w):
    member, order, _bureau = dispatched_order(w)
    visit = catalogue.visit_record(
        actor=member, order_id=order.pk, date=timezone.localdate(), pupils_reached=38
    )
    return Case(
        url=reverse("catalogue:visit_confirm", args=[visit.pk]),
        user=w.principal_a,
        valid={"rating": 5, "comment": "讲解生动"},
        state=lambda: list(CatalogueVisit.objects.values_list("rating", "confirmed_at")),
        audit="supply.catalogue.visit_confirmed",
        invalid={"rating": "", "comment": "讲解生动"},
        error="评分应为 1 至 5 分。",
    )


@case(
    "catalogue:locality_set",
    refused=("anonymous", "school", "parent", "bureau_homework", "staff_without_group",
             "other_organisation"),
)  # fmt: skip
def locality_set(w):
    return Case(
        url=reverse("catalogue:locality_set", args=[w.school_a.pk]),
        user=bureau_user(),
        valid={"rural": "1"},
        state=lambda: list(SchoolLocality.objects.values_list("school_id", "rural")),
        audit="supply.catalogue.locality_set",
        invalid={"rural": "x"},
        error="城乡属性应为农村学校或城镇学校。",
    )
