"""The whole-page cache of the public whitelist: fast for the thousandth parent, never stale
after a change."""

import pytest
from django.urls import reverse

from institutions.services import institution_suspend
from tests.institutions.helpers import make_institution, training_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_on(settings):
    from portal.public_cache import _redis, _version_key

    settings.PORTAL_PUBLIC_CACHE_SECONDS = 300
    # move past any page another run cached under the current version
    _redis().incr(_version_key("institutions"))


def test_the_second_visitor_costs_no_query(
    world, cache_on, client, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_institution(training_staff(), world.school_a.district, name="博雅英语培训学校")
    url = reverse("institutions:search")
    first = client.get(url, {"q": "博雅"}).content.decode()
    with django_assert_num_queries(0):
        second = client.get(url, {"q": "博雅"}).content.decode()
    assert first == second and "博雅英语培训学校" in second
    assert client.get(reverse("api-institutions"), {"q": "博雅"}).json()["count"] == 1
    with django_assert_num_queries(0):
        assert client.get(reverse("api-institutions"), {"q": "博雅"}).json()["count"] == 1


def test_a_change_shows_at_once(world, cache_on, client, django_capture_on_commit_callbacks):
    staff = training_staff()
    with django_capture_on_commit_callbacks(execute=True):
        institution = make_institution(staff, world.school_a.district, name="启航数学培训")
    detail = reverse("institutions:detail", args=[institution.pk])
    assert "白名单" in client.get(detail).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        institution_suspend(actor=staff, institution_id=institution.pk, reason="停业整顿")
    html = client.get(detail).content.decode()
    assert "灰名单" in html and "停业整顿" in html


def test_logged_in_users_and_public_pages_set_no_cookie(world, cache_on, client_for):
    institution = make_institution(training_staff(), world.school_a.district)
    anonymous = client_for(None).get(reverse("institutions:detail", args=[institution.pk]))
    assert "csrftoken" not in anonymous.cookies  # or no cache could keep the page
    staff_page = client_for(world.principal_a).get(
        reverse("institutions:detail", args=[institution.pk])
    )
    assert "我的工作台" in staff_page.content.decode()  # the user's own header, not cached
