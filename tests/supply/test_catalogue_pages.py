"""The course catalogue's pages (/catalogue/): who sees what (another school's order and
another organisation's package are 404s, pupils never shown), the report and its Excel,
the dashboard panels (one query each)."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from portal.dashboard import Filters
from supply import catalogue
from supply.catalogue_dashboard import by_school, by_venue
from tests.post_routes.cases_catalogue import (
    bureau_user,
    dispatched_order,
    make_order,
    make_package,
    term_for,
    venue_member,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered(world):
    """School A's order of the museum's package, dispatched, one visit recorded and rated."""
    member, order, bureau = dispatched_order(world)
    visit = catalogue.visit_record(
        actor=member, order_id=order.pk, date=timezone.localdate(), pupils_reached=38
    )
    catalogue.visit_confirm(actor=world.principal_a, visit_id=visit.pk, rating=4)
    return member, order, bureau


def test_each_side_sees_its_own_pages(world, client_for, delivered):
    member, order, bureau = delivered
    package = order.package
    for user in (member, world.principal_a, world.teacher_a, bureau):
        c = client_for(user)
        for url in (reverse("catalogue:packages"), reverse("catalogue:orders"),
                    reverse("catalogue:package", args=[package.pk]),
                    reverse("catalogue:order", args=[order.pk])):  # fmt: skip
            r = c.get(url)
            assert r.status_code == 200, (user, url, r.status_code)
            assert "博物馆里的历史课" in r.content.decode()
    page = client_for(member).get(reverse("catalogue:package", args=[package.pk])).content
    assert world.school_a.name in page.decode()  # the venue sees school names and counts
    assert world.child_a.name not in page.decode()  # never a pupil


def test_another_school_and_another_organisation_get_404(world, client_for, delivered):
    _member, order, _bureau = delivered
    other_venue = venue_member(username="other_museum", name="另一博物馆")
    c = client_for(world.principal_b)
    assert c.get(reverse("catalogue:order", args=[order.pk])).status_code == 404
    # the package itself is in school B's district's catalogue, its orders are not shown
    page = c.get(reverse("catalogue:package", args=[order.package_id])).content.decode()
    assert world.school_a.name not in page
    assert "所学校" not in page  # nor how many others ordered
    c = client_for(other_venue)
    assert c.get(reverse("catalogue:order", args=[order.pk])).status_code == 404
    assert c.get(reverse("catalogue:package", args=[order.package_id])).status_code == 404
    assert "博物馆里的历史课" not in c.get(reverse("catalogue:orders")).content.decode()


def test_refused_users_of_the_pages(world, client_for, delivered):
    _member, order, _bureau = delivered
    provider = venue_member(kind="provider", username="prov", name="课后服务公司")
    urls = [reverse("catalogue:packages"), reverse("catalogue:orders"),
            reverse("catalogue:order", args=[order.pk])]  # fmt: skip
    for user in (world.parent_a, world.bureau, provider):
        c = client_for(user)
        for url in urls:
            assert c.get(url).status_code == 403, (user, url)
    for name in ("localities", "report", "report_xlsx"):
        assert client_for(world.principal_a).get(reverse(f"catalogue:{name}")).status_code == 403
    r = client_for(None).get(reverse("catalogue:packages"))
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_a_school_sees_its_districts_packages_not_withdrawn(world, client_for):
    member = venue_member()
    term = term_for(world.school_a.district)
    make_package(member, term, title="开放中的课程包")
    gone = make_package(member, term, title="已撤下的课程包")
    catalogue.package_withdraw(actor=bureau_user(), package_id=gone.pk, reason="闭馆")
    page = client_for(world.principal_a).get(reverse("catalogue:packages")).content.decode()
    assert "开放中的课程包" in page and "已撤下的课程包" not in page
    r = client_for(world.principal_a).get(reverse("catalogue:package", args=[gone.pk]))
    assert r.status_code == 404


def test_the_order_form_shows_the_capacity_rule(world, client_for):
    package = make_package(venue_member(), term_for(world.school_a.district))
    c = client_for(world.principal_a)
    r = c.post(reverse("catalogue:order_new", args=[package.pk]),
               {"pupils": "121", "preferred_dates": "2026-13-01"})  # fmt: skip
    assert r.status_code == 400
    assert "格式应为 YYYY-MM-DD" in r.content.decode()
    r = c.post(
        reverse("catalogue:order_new", args=[package.pk]),
        {"pupils": "121", "preferred_dates": package.window_start.isoformat()},
    )
    assert "超过课程包容量" in r.content.decode()
    r = c.post(
        reverse("catalogue:order_new", args=[package.pk]),
        {"pupils": "40", "preferred_dates": package.window_start.isoformat()},
    )
    assert r.status_code == 302
    assert client_for(world.teacher_a).get(r["Location"]).status_code == 200


def test_the_report_and_its_excel(world, client_for, delivered):
    _member, order, bureau = delivered
    c = client_for(bureau)
    page = c.get(reverse("catalogue:report")).content.decode()
    assert "区博物馆" in page and world.school_a.name in page and "38" in page
    r = c.get(reverse("catalogue:report_xlsx"), {"term": order.package.term_id})
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    venue_rows = list(wb["按场馆"].iter_rows(min_row=3, values_only=True))
    assert venue_rows == [("区博物馆", 1, 38, 1, 4)]
    school_rows = list(wb["按学校"].iter_rows(min_row=3, values_only=True))
    assert school_rows == [(world.school_a.name, 1, 38, 1, 4)]
    assert c.get(reverse("catalogue:report"), {"term": "abc"}).status_code == 400


def test_the_localities_page_and_form(world, client_for):
    bureau = bureau_user()
    c = client_for(bureau)
    assert world.school_a.name in c.get(reverse("catalogue:localities")).content.decode()
    r = c.post(reverse("catalogue:locality_set", args=[world.school_a.pk]), {"rural": "1"})
    assert r.status_code == 302
    assert "农村学校" in c.get(reverse("catalogue:localities")).content.decode()
    assert (
        c.post(reverse("catalogue:locality_set", args=[999999]), {"rural": "1"}).status_code == 404
    )


def test_dashboard_panels_one_query_each(world, delivered):
    f = Filters(district=world.school_a.district, month=timezone.localdate().strftime("%Y-%m"))
    for func in (by_venue, by_school):
        with CaptureQueriesContext(connection) as ctx:
            p = func(f)
        assert len(ctx.captured_queries) == 1
        assert p.series[0].bars[0].value == 38
    other = Filters(district=world.school_a.district, month="2000-01")
    assert not by_venue(other).has_data


def test_dispatch_and_withdraw_pages(world, client_for):
    member = venue_member()
    package = make_package(member, term_for(world.school_a.district))
    make_order(world.principal_a, package)
    bureau = bureau_user()
    c = client_for(bureau)
    page = c.get(reverse("catalogue:package", args=[package.pk])).content.decode()
    assert "按规则派单" in page and world.school_a.name in page
    assert "需求 1 场 / 供给 3 场" in page
    assert c.post(reverse("catalogue:dispatch", args=[package.pk])).status_code == 302
    page = c.get(reverse("catalogue:package", args=[package.pk])).content.decode()
    assert "第 1 顺位" in page and "按规则派单" not in page
    r = c.post(reverse("catalogue:dispatch", args=[package.pk]))
    assert r.status_code == 400 and "每个课程包只派单一次" in r.content.decode()
    # a GET on a form route goes back to the page
    assert c.get(reverse("catalogue:withdraw", args=[package.pk])).status_code == 302


def test_a_school_still_opens_a_withdrawn_package_it_ordered(world, client_for):
    package = make_package(venue_member(), term_for(world.school_a.district))
    order = make_order(world.principal_a, package)
    catalogue.package_withdraw(actor=bureau_user(), package_id=package.pk, reason="闭馆维修")
    c = client_for(world.principal_a)
    page = c.get(reverse("catalogue:order", args=[order.pk])).content.decode()
    assert "课程包已撤下" in page
    page = c.get(reverse("catalogue:package", args=[package.pk])).content.decode()
    assert "闭馆维修" in page
    assert (
        client_for(world.principal_b)
        .get(reverse("catalogue:package", args=[package.pk]))
        .status_code
        == 404
    )


def test_the_demo_builds_through_the_services_once(db):
    from portal import demo
    from supply import catalogue_demo
    from supply.catalogue_models import CatalogueOrder, CatalogueVisit

    demo.load_demo()
    passwords = catalogue_demo.build()
    assert {u for u, _p in passwords} == {"org_bowuguan", "org_kejiguan"}
    assert catalogue_demo.build() == []
    got = dict(
        CatalogueOrder.objects.filter(package__title="博物馆里的中国历史").values_list(
            "school__name", "status"
        )
    )
    assert got == {"示范区第一中学": "granted", "示范区实验小学": "partly"}
    assert CatalogueVisit.objects.filter(rating=5).count() == 1


def test_the_admin_dispatches_and_sets_localities_through_the_services(world, client_for):
    from supply.catalogue_models import CatalogueOrder, SchoolLocality

    package = make_package(venue_member(), term_for(world.school_a.district))
    make_order(world.principal_a, package)
    empty = make_package(venue_member(username="m2", name="另一馆"), package.term)
    c = client_for(bureau_user())
    data = {"action": "dispatch", "_selected_action": [package.pk, empty.pk]}
    r = c.post("/admin/supply/cataloguepackage/", data, follow=True)
    page = r.content.decode()
    assert "已派单 1 个课程包。" in page and "还没有学校点单" in page
    assert CatalogueOrder.objects.get().status == "granted"
    catalogue.locality_set(actor=bureau_user("b2"), school_id=world.school_a.pk, rural=False)
    row = SchoolLocality.objects.get()
    c.post("/admin/supply/schoollocality/", {"action": "set_rural", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.rural is True
