"""The matching fair's pages (GET): who sees what (another school's need and another
organisation's offer are 404s, the bureau's pages 403 to others), the matches shown to each
side, the bureau's unmatched needs per school, its dashboard panel and nightly check."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.compliance import run_checks
from portal.dashboard import Filters
from portal.models import Finding
from supply import fair as fairs
from supply.fair_dashboard import unmatched as unmatched_panel
from supply.fair_models import FairChoice
from tests.supply.fair_helpers import bureau_as, choose, fair_of, need, offer, provider_member

pytestmark = pytest.mark.django_db
SCHOOL, PROVIDER = FairChoice.Side.SCHOOL, FairChoice.Side.PROVIDER


@pytest.fixture
def fair_world(world):
    fair = fair_of(world.school_a.district)
    member = provider_member("org_a", name="阳光体育")
    rival = provider_member("org_b", name="星星艺术")
    n_a = need(fair, world.school_a)
    n_b = need(fair, world.school_b)
    o = offer(fair, member)
    o_rival = offer(fair, rival, title="合唱", kind="arts")
    return {"fair": fair, "member": member, "rival": rival, "n_a": n_a, "n_b": n_b, "o": o,
            "o_rival": o_rival, "bureau": bureau_as()}  # fmt: skip


def _get(client_for, user, name, *args):
    return client_for(user).get(reverse(name, args=args))


def test_a_school_sees_its_own_needs_and_not_another_schools(world, client_for, fair_world):
    f = fair_world
    page = _get(client_for, world.principal_a, "fair:detail", f["fair"].pk)
    assert page.status_code == 200
    assert f"/fair/needs/{f['n_a'].pk}/" in page.content.decode()
    assert f"/fair/needs/{f['n_b'].pk}/" not in page.content.decode()
    assert _get(client_for, world.principal_a, "fair:need", f["n_a"].pk).status_code == 200
    assert _get(client_for, world.principal_a, "fair:need", f["n_b"].pk).status_code == 404
    # the need's page lists the compatible offer only (the arts offer is not compatible)
    body = _get(client_for, world.principal_a, "fair:need", f["n_a"].pk).content.decode()
    assert "阳光体育·篮球" in body and "合唱" not in body
    for user in (world.teacher_a, world.parent_a, f["member"]):
        assert _get(client_for, user, "fair:need", f["n_a"].pk).status_code in (403, 404)
    # a school of another district does not see the fair at all
    from tests.factories import SchoolFactory, SchoolStaffFactory

    elsewhere = SchoolStaffFactory(school=SchoolFactory(), role="principal").user
    assert _get(client_for, elsewhere, "fair:detail", f["fair"].pk).status_code == 404
    assert _get(client_for, elsewhere, "fair:need_new", f["fair"].pk).status_code == 404
    assert "春季双向选择会" not in _get(client_for, elsewhere, "fair:index").content.decode()


def test_a_provider_sees_its_own_offers_and_not_another_organisations(
    world, client_for, fair_world
):
    f = fair_world
    assert _get(client_for, f["member"], "fair:offer", f["o"].pk).status_code == 200
    assert _get(client_for, f["member"], "fair:offer", f["o_rival"].pk).status_code == 404
    body = _get(client_for, f["member"], "fair:offer", f["o"].pk).content.decode()
    assert "甲小学" in body and "乙小学" in body  # both needs are compatible
    for user in (world.principal_a, world.parent_a):
        assert _get(client_for, user, "fair:offer", f["o"].pk).status_code in (403, 404)
    # a provider not (yet) admitted sees no fair at all
    applied = provider_member("org_new", status="applied")
    assert _get(client_for, applied, "fair:index").status_code == 403
    assert _get(client_for, applied, "fair:detail", f["fair"].pk).status_code == 403


def test_the_bureau_pages_are_the_bureaus(world, client_for, fair_world):
    f = fair_world
    for user in (world.principal_a, f["member"], world.bureau, world.parent_a):
        assert _get(client_for, user, "fair:unmatched", f["fair"].pk).status_code == 403
        assert _get(client_for, user, "fair:open").status_code == 403
    assert _get(client_for, f["bureau"], "fair:open").status_code == 200
    assert _get(client_for, None, "fair:index").status_code == 302


def test_after_matching_each_side_sees_its_match_and_the_bureau_the_unmatched(
    world, client_for, fair_world
):
    f = fair_world
    choose(SCHOOL, f["n_a"], [f["o"]])
    choose(SCHOOL, f["n_b"], [f["o"]])
    choose(PROVIDER, f["o"], [f["n_a"], f["n_b"]])
    fairs.fair_match(actor=f["bureau"], fair_id=f["fair"].pk)
    school_page = _get(client_for, world.principal_a, "fair:detail", f["fair"].pk)
    assert "已匹配：阳光体育·篮球" in school_page.content.decode()
    other_page = _get(client_for, world.principal_b, "fair:detail", f["fair"].pk)
    assert "未匹配" in other_page.content.decode()
    assert "阳光体育·篮球" not in other_page.content.decode()
    provider_page = _get(client_for, f["member"], "fair:detail", f["fair"].pk).content.decode()
    assert "甲小学" in provider_page and "互为第一志愿" in provider_page
    rival_page = _get(client_for, f["rival"], "fair:detail", f["fair"].pk).content.decode()
    assert "甲小学" not in rival_page
    table = _get(client_for, f["bureau"], "fair:unmatched", f["fair"].pk).content.decode()
    assert "乙小学" in table and "甲小学" not in table


def test_the_dashboard_panel_counts_unmatched_needs_per_school_in_one_query(
    world, fair_world, django_assert_num_queries
):
    f = fair_world
    choose(SCHOOL, f["n_a"], [f["o"]])
    choose(PROVIDER, f["o"], [f["n_a"]])
    filters = Filters(district=world.school_a.district, month=f"{f['fair'].term.start:%Y-%m}")
    assert unmatched_panel(filters).note  # not matched yet: nothing to show
    fairs.fair_match(actor=f["bureau"], fair_id=f["fair"].pk)
    with django_assert_num_queries(1):
        panel = unmatched_panel(filters)
    bars = {b.label: b.value for b in panel.series[0].bars}
    assert bars == {"乙小学": 1, "甲小学": 0}
    assert panel.figures == [("未匹配需求", "1")]


def test_the_nightly_check_finds_a_fair_not_matched_once_its_term_began(world, fair_world):
    f = fair_world
    rule = "supply.fair.unmatched_after_start"
    term = f["fair"].term
    run_checks(for_date=term.start - dt.timedelta(days=1), rules=[rule])
    assert not Finding.objects.filter(rule=rule).exists()
    run_checks(for_date=term.start, rules=[rule])
    found = Finding.objects.get(rule=rule, resolved_at__isnull=True)
    assert "仍未进行匹配" in found.message
    fairs.fair_match(actor=f["bureau"], fair_id=f["fair"].pk)
    run_checks(for_date=min(term.start, timezone.localdate()) + dt.timedelta(days=1), rules=[rule])
    found.refresh_from_db()
    assert found.resolved_at is not None


def test_every_fair_link_shown_to_the_demo_users_leads_somewhere(client_for):
    """A small crawl of /fair/ in the demo (tests/test_crawl.py's rule: no link the portal
    shows a user answers 403/404), for the bureau, both principals and the provider."""
    import re
    from collections import deque

    from django.contrib.auth import get_user_model

    from portal.demo import load_demo
    from supply import fair_demo

    load_demo()
    fair_demo.build()
    users = ["bureau_afterschool", "principal_shiyan", "principal_yizhong", "org_yangguang"]
    for username in users:
        client = client_for(get_user_model().objects.get(username=username))
        seen, todo = set(), deque(["/fair/"])
        while todo:
            url = todo.popleft()
            if url in seen:
                continue
            seen.add(url)
            response = client.get(url)
            assert response.status_code == 200, (username, url, response.status_code)
            for link in re.findall(r'href="(/fair/[^"]*)"', response.content.decode()):
                todo.append(link)
        assert len(seen) >= 3, (username, seen)
