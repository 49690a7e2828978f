"""The signed-in request's cheaper start (issue 20, the enrolment burst): the user read with
their school staff and parent rows in one query (portal.auth_backend.PortalBackend); and,
ready for when SESSION_ENGINE is cached_db (sessions read from the cache, written to the
database: one query less a signed-in request), that a cache flush then loses no session
and brings back none that was ended. Each with its refusal."""

import pytest
from django.contrib.auth import SESSION_KEY, authenticate, get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.access import PARENT, SCHOOL, kind_of
from portal.auth_backend import PortalBackend
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

BACKEND = "portal.auth_backend.PortalBackend"


def test_the_backend_is_listed_after_axes_and_before_djangos(settings):
    backends = settings.AUTHENTICATION_BACKENDS
    assert backends[0] == "axes.backends.AxesStandaloneBackend"
    assert backends.index(BACKEND) < backends.index("django.contrib.auth.backends.ModelBackend")


def test_get_user_is_one_query_and_the_same_user_with_their_kind(world):
    for user, kind in ((world.parent_a, PARENT), (world.principal_a, SCHOOL)):
        with CaptureQueriesContext(connection) as ctx:
            got = PortalBackend().get_user(user.pk)
            assert kind_of(got) == kind  # asks school_staff, then parent: no query
        assert len(ctx.captured_queries) == 1, ctx.captured_queries
        assert got == user and got.password == user.password
    # Django's backend: the same user, two more queries to know the kind
    with CaptureQueriesContext(connection) as ctx:
        assert kind_of(ModelBackend().get_user(world.parent_a.pk)) == PARENT
    assert len(ctx.captured_queries) == 3


def test_get_user_refuses_an_inactive_user_and_an_unknown_id(world):
    user = world.parent_a
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    assert PortalBackend().get_user(user.pk) is None
    assert PortalBackend().get_user(0) is None


def test_a_login_records_this_backend_and_a_wrong_password_is_checked_once(
    world, client, monkeypatch
):
    r = client.post(reverse("login"), {"username": "pa", "password": PASSWORD})
    assert r.status_code == 302
    assert client.session["_auth_user_backend"] == BACKEND
    checks, failed = [], []
    original = get_user_model().check_password

    def check_password(self, raw):
        checks.append(self.pk)
        return original(self, raw)

    monkeypatch.setattr(get_user_model(), "check_password", check_password)

    def heard(**kwargs):
        failed.append(kwargs)

    user_login_failed.connect(heard, dispatch_uid="test-enrol-auth")
    try:
        request = RequestFactory().post(reverse("login"))
        assert authenticate(request, username="pa", password="wrong") is None
    finally:
        user_login_failed.disconnect(dispatch_uid="test-enrol-auth")
    # ModelBackend, listed after it, does not hash the same wrong password again
    assert checks == [world.principal_a.pk] and len(failed) == 1


def test_a_session_made_with_djangos_backend_still_signs_in(world, client):
    client.force_login(world.parent_a, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(reverse("afterschool:menu")).status_code == 200


# --- cached_db sessions --------------------------------------------------------------------


CACHED_DB = "django.contrib.sessions.backends.cached_db"


def test_a_session_survives_the_cache_flush(world, client, settings):
    settings.SESSION_ENGINE = CACHED_DB
    client.force_login(world.parent_a, backend=BACKEND)
    key = client.session.session_key
    assert Session.objects.filter(session_key=key).exists()  # written to the database
    cache.clear()
    r = client.get(reverse("afterschool:menu"))
    assert r.status_code == 200 and r.wsgi_request.user == world.parent_a


def test_a_session_logged_out_stays_out_after_the_cache_flush(world, client, settings):
    settings.SESSION_ENGINE = CACHED_DB
    client.force_login(world.parent_a, backend=BACKEND)
    key = client.session.session_key
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=key).exists()
    cache.clear()
    client.cookies["sessionid"] = key  # the old cookie again
    r = client.get(reverse("afterschool:menu"))
    assert r.status_code == 302 and SESSION_KEY not in client.session
