"""The course catalogue's services (公益课程包, supply/catalogue.py): each rule at its
boundary and its refusal (nothing written), the dispatch rule on a hand-worked example."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from portal.models import AuditLog, SchoolPeriod, SchoolStaff
from supply import catalogue
from supply.catalogue_checks import undelivered
from supply.catalogue_models import (
    CatalogueOrder,
    CataloguePackage,
    CatalogueVisit,
    SchoolLocality,
)
from tests.factories import (
    ChildFactory,
    SchoolClassFactory,
    SchoolFactory,
    SchoolStaffFactory,
)
from tests.post_routes.cases_catalogue import (
    bureau_user,
    dispatched_order,
    make_order,
    make_package,
    term_for,
    venue_member,
)

pytestmark = pytest.mark.django_db

S = CatalogueOrder.Status


@pytest.fixture
def cat(world):
    class C:
        member = venue_member()
        term = term_for(world.school_a.district)
        bureau = bureau_user()

    return C


def _message(exc, key):
    return " ".join(exc.value.message_dict[key])


# --- publish -------------------------------------------------------------------------------


def test_a_museum_publishes_a_package(cat):
    p = make_package(cat.member, cat.term)
    assert p.status == CataloguePackage.Status.PUBLISHED
    assert p.capacity == 120
    assert AuditLog.objects.filter(action="supply.catalogue.package_published").count() == 1


@pytest.mark.parametrize("kind", ["science", "library", "club", "other"])
def test_every_venue_kind_publishes(cat, kind):
    member = venue_member(kind=kind, username=f"v_{kind}", name=f"场馆{kind}")
    assert make_package(member, cat.term).organisation.kind == kind


def test_a_provider_a_school_and_the_bureau_may_not_publish(world, cat):
    provider = venue_member(kind="provider", username="prov", name="课后服务公司")
    for user in (provider, world.principal_a, cat.bureau):
        with pytest.raises(PermissionDenied):
            make_package(user, cat.term)
    assert not CataloguePackage.objects.exists()


def test_the_window_lies_within_the_term(cat):
    term = cat.term
    assert make_package(cat.member, term, window_start=term.start, window_end=term.end)
    with pytest.raises(ValidationError) as exc:
        make_package(cat.member, term, window_start=term.start,
                     window_end=term.end + dt.timedelta(days=1))  # fmt: skip
    assert "服务时段应在所选学期内" in _message(exc, "window_start")
    with pytest.raises(ValidationError) as exc:
        make_package(cat.member, term, window_start=term.start - dt.timedelta(days=1))
    assert CataloguePackage.objects.count() == 1


def test_package_fields_refused_with_their_rule(cat):
    for kw, field, text in [
        ({"visits": 0}, "visits", "场次至少为 1。"),
        ({"visits": catalogue.MAX_VISITS + 1}, "visits", f"场次最多 {catalogue.MAX_VISITS} 场。"),
        ({"places_per_visit": 0}, "places_per_visit", "每场名额至少为 1。"),
        ({"grades": []}, "grades", "请选择适用年级。"),
        ({"grades": [10]}, "grades", "适用年级应为一至九年级。"),
        ({"title": " "}, "title", "请填写课程包名称。"),
        ({"mode": "x"}, "mode", "请选择形式：到馆或送课进校。"),
    ]:
        with pytest.raises(ValidationError) as exc:
            make_package(cat.member, cat.term, **kw)
        assert _message(exc, field) == text
    assert make_package(cat.member, cat.term, visits=catalogue.MAX_VISITS).visits == 200
    assert CataloguePackage.objects.count() == 1


def test_a_closed_term_takes_no_package(cat):
    SchoolPeriod.objects.filter(pk=cat.term.pk).update(status=SchoolPeriod.Status.CLOSED)
    with pytest.raises(ValidationError) as exc:
        make_package(cat.member, cat.term)
    assert "不能再发布课程包" in _message(exc, "term")


# --- order ---------------------------------------------------------------------------------


def test_an_order_up_to_the_capacity_is_taken_one_more_refused(world, cat):
    p = make_package(cat.member, cat.term)  # 3 × 40 = 120
    with pytest.raises(ValidationError) as exc:
        make_order(world.principal_a, p, pupils=121)
    assert _message(exc, "pupils") == (
        "点单人数 121 人超过课程包容量：场次 3 × 每场名额 40 人 = 120 人（点单不得超过容量）。"
    )
    assert not CatalogueOrder.objects.exists()
    order = make_order(world.principal_a, p, pupils=120)
    assert order.pupils == 120 and order.status == S.ORDERED
    with pytest.raises(ValidationError) as exc:
        make_order(world.principal_a, p, pupils=0)


def test_one_order_per_school_and_package(world, cat):
    p = make_package(cat.member, cat.term)
    make_order(world.principal_a, p)
    with pytest.raises(ValidationError) as exc:
        make_order(world.principal_a, p, pupils=10)
    assert "每校每个课程包限点一次" in _message(exc, "__all__")
    make_order(world.principal_b, p)  # another school may
    assert CatalogueOrder.objects.count() == 2


def test_only_a_schools_manager_orders(world, cat):
    p = make_package(cat.member, cat.term)
    for user in (world.teacher_a, world.parent_a, cat.member, cat.bureau):
        with pytest.raises(PermissionDenied):
            make_order(user, p)
    academic = SchoolStaffFactory(school=world.school_a, role=SchoolStaff.Role.ACADEMIC).user
    assert make_order(academic, p).school == world.school_a


def test_another_districts_package_and_foreign_grades_are_refused(world, cat):
    other = SchoolFactory(name="外区学校")
    principal = SchoolStaffFactory(school=other, role=SchoolStaff.Role.PRINCIPAL).user
    p = make_package(cat.member, cat.term)
    with pytest.raises(ValidationError) as exc:
        make_order(principal, p)
    assert _message(exc, "__all__") == "该课程包不面向本区学校。"
    junior = SchoolFactory(district=world.school_a.district, stage="junior", name="初中")
    jp = SchoolStaffFactory(school=junior, role=SchoolStaff.Role.PRINCIPAL).user
    with pytest.raises(ValidationError) as exc:
        make_order(jp, p)
    assert "本校（初中）没有这些年级" in _message(exc, "__all__")
    assert not CatalogueOrder.objects.exists()


def test_preferred_dates_within_the_window_and_at_most_three(world, cat):
    p = make_package(cat.member, cat.term)
    with pytest.raises(ValidationError) as exc:
        make_order(world.principal_a, p, dates=[p.window_end + dt.timedelta(days=1)])
    assert "不在服务时段内" in _message(exc, "preferred_dates")
    four = [p.window_start + dt.timedelta(days=i) for i in range(4)]
    with pytest.raises(ValidationError) as exc:
        make_order(world.principal_a, p, dates=four)
    assert _message(exc, "preferred_dates") == "希望日期最多填写 3 个。"
    assert make_order(world.principal_a, p, dates=[*four[:2], p.window_end]).preferred_dates


# --- dispatch: the hand-worked example -----------------------------------------------------


def _school(district, name, *, rural, children):
    school = SchoolFactory(district=district, name=name)
    principal = SchoolStaffFactory(school=school, role=SchoolStaff.Role.PRINCIPAL).user
    if rural:
        SchoolLocality.objects.create(school=school, rural=True, set_by=principal)
    if children:
        klass = SchoolClassFactory(school=school, grade=3)
        for _ in range(children):
            ChildFactory(school_class=klass, school=school)
    return principal


def test_dispatch_rural_then_small_then_order_time_then_id(world, cat, settings):
    """6 visits of 40 places; small = fewer than 2 pupils. Six orders:

    order  school  rural  pupils(school)  ordered  pupils  needs
    o1     U1      no     2 (not small)   09:00    80      2
    o2     R1      yes    0 (small)       10:00    40      1
    o3     R2      yes    1 (small)       09:30    50      2
    o4     R3      yes    0 (small)       10:00    30      1   (same time as o2, later id)
    o5     U2      no     1 (small)       08:00    50      2
    o6     R4      yes    2 (not small)   11:00    40      1

    Ranks: o3 (rural, small, 09:30), o2 and o4 (rural, small, 10:00: o2's lower id first),
    o6 (rural, not small), o5 (urban, small), o1 (urban, not small).
    Visits: o3 2 [4 left], o2 1 [3], o4 1 [2], o6 1 [1], o5 1 of 2 (partly, 40 places) [0],
    o1 nothing.
    """
    settings.CATALOGUE_SMALL_SCHOOL_PUPILS = 2
    d = world.school_a.district
    p = make_package(cat.member, cat.term, visits=6, places_per_visit=40)
    spec = [("U1", False, 2, "09:00", 80), ("R1", True, 0, "10:00", 40),
            ("R2", True, 1, "09:30", 50), ("R3", True, 0, "10:00", 30),
            ("U2", False, 1, "08:00", 50), ("R4", True, 2, "11:00", 40)]  # fmt: skip
    day = timezone.localdate() - dt.timedelta(days=1)
    orders = []
    for name, rural, children, at, pupils in spec:
        principal = _school(d, name, rural=rural, children=children)
        o = make_order(principal, p, pupils=pupils)
        h, m = (int(x) for x in at.split(":"))
        when = timezone.make_aware(dt.datetime.combine(day, dt.time(h, m)))
        CatalogueOrder.objects.filter(pk=o.pk).update(ordered_at=when)
        orders.append(o)
    result = catalogue.dispatch(actor=cat.bureau, package_id=p.pk)
    assert [o.school.name for o in result] == ["R2", "R1", "R3", "R4", "U2", "U1"]
    got = {
        o.school.name: (o.rank, o.status, o.granted_visits, o.granted_places)
        for o in CatalogueOrder.objects.select_related("school")
    }
    assert got == {
        "R2": (1, S.GRANTED, 2, 50),
        "R1": (2, S.GRANTED, 1, 40),
        "R3": (3, S.GRANTED, 1, 30),
        "R4": (4, S.GRANTED, 1, 40),
        "U2": (5, S.PARTLY, 1, 40),
        "U1": (6, S.NOT_GRANTED, 0, 0),
    }
    r4 = CatalogueOrder.objects.get(school__name="R4")
    assert r4.rural is True and r4.school_pupils == 2
    assert "农村学校" in r4.reason and "在校生 2 人（不少于 2 人）" in r4.reason
    u2 = CatalogueOrder.objects.get(school__name="U2")
    assert "小规模学校（在校生 1 人，少于 2 人）" in u2.reason
    assert "场次不足，派 1 场、40 人（需 2 场）" in u2.reason
    assert "未派到" in CatalogueOrder.objects.get(school__name="U1").reason
    p.refresh_from_db()
    assert p.status == CataloguePackage.Status.DISPATCHED and p.dispatched_by == cat.bureau
    log = AuditLog.objects.get(action="supply.catalogue.dispatched")
    assert [r["rank"] for r in log.new["orders"]] == [1, 2, 3, 4, 5, 6]
    assert log.new["small_below"] == 2


def test_same_time_tie_broken_by_id(world, cat):
    p = make_package(cat.member, cat.term, visits=1)
    a = make_order(world.principal_a, p, pupils=40)
    b = make_order(world.principal_b, p, pupils=40)
    same = timezone.now() - dt.timedelta(hours=1)
    CatalogueOrder.objects.filter(pk__in=[a.pk, b.pk]).update(ordered_at=same)
    catalogue.dispatch(actor=cat.bureau, package_id=p.pk)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.rank, a.status, b.rank, b.status) == (1, S.GRANTED, 2, S.NOT_GRANTED)


def test_demand_within_supply_grants_everyone(world, cat):
    p = make_package(cat.member, cat.term)  # 3 visits
    make_order(world.principal_a, p, pupils=80)  # 2 visits
    make_order(world.principal_b, p, pupils=1)  # 1 visit
    catalogue.dispatch(actor=cat.bureau, package_id=p.pk)
    assert set(CatalogueOrder.objects.values_list("status", flat=True)) == {S.GRANTED}


def test_dispatch_once_closes_ordering_and_needs_orders(world, cat):
    p = make_package(cat.member, cat.term)
    with pytest.raises(ValidationError) as exc:
        catalogue.dispatch(actor=cat.bureau, package_id=p.pk)
    assert "还没有学校点单" in _message(exc, "__all__")
    make_order(world.principal_a, p)
    catalogue.dispatch(actor=cat.bureau, package_id=p.pk)
    with pytest.raises(ValidationError) as exc:
        catalogue.dispatch(actor=cat.bureau, package_id=p.pk)
    assert "每个课程包只派单一次" in _message(exc, "__all__")
    with pytest.raises(ValidationError) as exc:
        make_order(world.principal_b, p)
    assert _message(exc, "__all__") == "该课程包已派单，不再接受点单。"


def test_only_the_afterschool_bureau_dispatches(world, cat):
    p = make_package(cat.member, cat.term)
    make_order(world.principal_a, p)
    for user in (world.bureau, world.principal_a, cat.member):
        with pytest.raises(PermissionDenied):
            catalogue.dispatch(actor=user, package_id=p.pk)
    assert CatalogueOrder.objects.get().status == S.ORDERED


# --- deliver -------------------------------------------------------------------------------


def test_the_venue_records_visits_up_to_the_granted_number(world):
    member, order, _b = dispatched_order(world)  # 60 pupils: 2 visits of 40
    today = timezone.localdate()
    with pytest.raises(ValidationError) as exc:
        catalogue.visit_record(actor=member, order_id=order.pk, date=today, pupils_reached=41)
    assert _message(exc, "pupils_reached") == "服务学生数 41 人超过每场名额 40 人。"
    catalogue.visit_record(actor=member, order_id=order.pk, date=today, pupils_reached=40)
    catalogue.visit_record(actor=member, order_id=order.pk, date=today, pupils_reached=20)
    with pytest.raises(ValidationError) as exc:
        catalogue.visit_record(actor=member, order_id=order.pk, date=today, pupils_reached=1)
    assert _message(exc, "__all__") == "该点单派单 2 场，已记录 2 场，不能再记录。"
    assert CatalogueVisit.objects.count() == 2


def test_visit_dates_not_in_the_future_and_within_the_window(world):
    member, order, _b = dispatched_order(world)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        catalogue.visit_record(actor=member, order_id=order.pk, date=tomorrow, pupils_reached=5)
    assert "不能晚于今天" in _message(exc, "date")
    before = order.package.window_start - dt.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        catalogue.visit_record(actor=member, order_id=order.pk, date=before, pupils_reached=5)
    assert "服务时段内" in _message(exc, "date")
    assert not CatalogueVisit.objects.exists()


def test_another_organisation_records_nothing(world):
    _member, order, _b = dispatched_order(world)
    other = venue_member(username="other_museum", name="另一博物馆")
    with pytest.raises(PermissionDenied):
        catalogue.visit_record(
            actor=other, order_id=order.pk, date=timezone.localdate(), pupils_reached=5
        )


def test_an_order_not_granted_has_no_visits(world, cat):
    p = make_package(cat.member, cat.term, visits=1)
    make_order(world.principal_a, p, pupils=40)
    late = make_order(world.principal_b, p, pupils=40)
    catalogue.dispatch(actor=cat.bureau, package_id=p.pk)
    with pytest.raises(ValidationError) as exc:
        catalogue.visit_record(actor=cat.member, order_id=late.pk,
                               date=timezone.localdate(), pupils_reached=5)  # fmt: skip
    assert "未派到" in _message(exc, "__all__")


def test_the_school_confirms_once_rating_one_to_five(world):
    member, order, _b = dispatched_order(world)
    today = timezone.localdate()
    v1 = catalogue.visit_record(actor=member, order_id=order.pk, date=today, pupils_reached=40)
    v2 = catalogue.visit_record(actor=member, order_id=order.pk, date=today, pupils_reached=20)
    for bad in (0, 6, None):
        with pytest.raises(ValidationError) as exc:
            catalogue.visit_confirm(actor=world.principal_a, visit_id=v1.pk, rating=bad)
        assert _message(exc, "rating") == "评分应为 1 至 5 分。"
    with pytest.raises(PermissionDenied):
        catalogue.visit_confirm(actor=world.principal_b, visit_id=v1.pk, rating=5)
    with pytest.raises(PermissionDenied):
        catalogue.visit_confirm(actor=world.teacher_a, visit_id=v1.pk, rating=5)
    catalogue.visit_confirm(actor=world.principal_a, visit_id=v1.pk, rating=1)
    catalogue.visit_confirm(actor=world.principal_a, visit_id=v2.pk, rating=5, comment="好")
    with pytest.raises(ValidationError) as exc:
        catalogue.visit_confirm(actor=world.principal_a, visit_id=v1.pk, rating=3)
    assert "不能重复确认" in _message(exc, "__all__")
    assert list(CatalogueVisit.objects.order_by("pk").values_list("rating", flat=True)) == [1, 5]


# --- withdraw and the rural register -------------------------------------------------------


def test_the_bureau_withdraws_until_a_visit_is_recorded(world, cat):
    p = make_package(cat.member, cat.term)
    make_order(world.principal_a, p)
    with pytest.raises(PermissionDenied):
        catalogue.package_withdraw(actor=world.bureau, package_id=p.pk, reason="x")
    with pytest.raises(ValidationError):
        catalogue.package_withdraw(actor=cat.bureau, package_id=p.pk, reason=" ")
    catalogue.package_withdraw(actor=cat.bureau, package_id=p.pk, reason="闭馆维修")
    assert CatalogueOrder.objects.get().status == S.WITHDRAWN
    with pytest.raises(ValidationError) as exc:
        make_order(world.principal_b, p)
    assert _message(exc, "__all__") == "该课程包已撤下，不能点单。"

    member, order, bureau = dispatched_order(world, member=cat.member, bureau=cat.bureau)
    catalogue.visit_record(actor=member, order_id=order.pk, date=timezone.localdate(),
                           pupils_reached=10)  # fmt: skip
    with pytest.raises(ValidationError) as exc:
        catalogue.package_withdraw(actor=bureau, package_id=order.package_id, reason="闭馆")
    assert "已有送课记录" in _message(exc, "reason")


def test_locality_set_and_changed_by_the_bureau_only(world, cat):
    with pytest.raises(PermissionDenied):
        catalogue.locality_set(actor=world.principal_a, school_id=world.school_a.pk, rural=True)
    catalogue.locality_set(actor=cat.bureau, school_id=world.school_a.pk, rural=True)
    catalogue.locality_set(actor=cat.bureau, school_id=world.school_a.pk, rural=False)
    assert list(SchoolLocality.objects.values_list("rural", flat=True)) == [False]
    assert AuditLog.objects.filter(action="supply.catalogue.locality_set").count() == 2


# --- the nightly check ---------------------------------------------------------------------


def test_undelivered_after_the_grace_days(world, settings):
    settings.CATALOGUE_DELIVERY_GRACE_DAYS = 7
    member, order, _b = dispatched_order(world)  # 2 visits granted
    end = order.package.window_end
    catalogue.visit_record(actor=member, order_id=order.pk, date=timezone.localdate(),
                           pupils_reached=40)  # fmt: skip
    qs = CatalogueOrder.objects.all()
    assert list(undelivered(end + dt.timedelta(days=7), qs)) == []  # the last day of grace
    found = list(undelivered(end + dt.timedelta(days=8), qs))
    assert len(found) == 1 and found[0].subject == order and found[0].school == world.school_a
    assert "只记录送课 1 场" in found[0].message
    catalogue.visit_record(actor=member, order_id=order.pk, date=timezone.localdate(),
                           pupils_reached=20)  # fmt: skip
    assert list(undelivered(end + dt.timedelta(days=8), qs)) == []  # resolved once recorded


def test_the_check_through_the_engine_finds_and_resolves(world):
    from portal.compliance import run_checks
    from portal.models import Finding

    rule = "supply.catalogue.undelivered"
    member, order, _b = dispatched_order(world)  # 2 visits granted, none recorded
    late = order.package.window_end + dt.timedelta(days=8)
    run_checks(for_date=late, rules=[rule])
    f = Finding.objects.get(rule=rule)
    assert f.school == world.school_a and f.resolved_at is None
    assert "只记录送课 0 场" in f.message and world.child_a.name not in f.message
    for n in (40, 20):
        catalogue.visit_record(actor=member, order_id=order.pk, date=timezone.localdate(),
                               pupils_reached=n)  # fmt: skip
    run_checks(for_date=late, rules=[rule])
    assert Finding.objects.get(rule=rule).resolved_at is not None
