"""The fixed statements of a signed-in request (issue 20): the session read by
portal.sessions.SessionStore and the user by PortalBackend.get_user through portal.rows.Rows.
Each gives what Django's own read gives, including the refusals: an expired or unknown
session, a user who is neither school staff nor parent, an id that is not a number."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.auth_backend import PortalBackend
from portal.models import Parent, SchoolStaff
from portal.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_the_portal_uses_its_session_engine(settings):
    assert settings.SESSION_ENGINE == "portal.sessions"


def test_a_session_loads_as_djangos_in_one_statement():
    store = SessionStore()
    store["answer"] = 42
    store.save()
    with CaptureQueriesContext(connection) as ctx:
        loaded = SessionStore(store.session_key)
        assert loaded["answer"] == 42
    assert len(ctx.captured_queries) == 1
    assert dict(DjangoStore(store.session_key).load()) == dict(loaded.load())


def test_an_expired_or_unknown_session_is_empty_and_its_key_dropped():
    store = SessionStore()
    store["answer"] = 42
    store.save()
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    for key in (store.session_key, "x" * 32, None):
        loaded = SessionStore(key)
        assert loaded.load() == {}
        assert loaded.session_key is None


def test_a_signed_in_request_with_the_new_engine(world, client):
    client.force_login(world.parent_a)
    assert Session.objects.filter(session_key=client.session.session_key).exists()
    r = client.get(reverse("afterschool:menu"))
    assert r.status_code == 200 and r.wsgi_request.user == world.parent_a
    client.post(reverse("logout"))
    assert client.get(reverse("afterschool:menu")).status_code == 302


def test_get_user_caches_both_sides_of_each_row_and_the_absent_ones(world):
    parent = PortalBackend().get_user(world.parent_a.pk)
    staff = PortalBackend().get_user(str(world.principal_a.pk))  # the session's string
    with CaptureQueriesContext(connection) as ctx:
        assert parent.parent.user is parent
        assert staff.school_staff.user is staff
        with pytest.raises(Parent.DoesNotExist):
            staff.parent  # noqa: B018 (the attribute read is the test)
        with pytest.raises(SchoolStaff.DoesNotExist):
            parent.school_staff  # noqa: B018
    assert ctx.captured_queries == []
    assert staff.school_staff == SchoolStaff.objects.get(user=world.principal_a)
    assert parent.parent == Parent.objects.get(user=world.parent_a)


def test_get_user_refuses_ids_that_are_not_users(world):
    nobody = get_user_model().objects.create_user("nobody", password="x")  # noqa: S106
    got = PortalBackend().get_user(nobody.pk)
    assert got == nobody
    with pytest.raises(Parent.DoesNotExist):
        got.parent  # noqa: B018
    # beyond the id column's type (auth_user.id is an integer: 2**31 is out of its range)
    for bad in ("abc", None, "", 0, -1, 2**31, 2**63, 2**70):
        assert PortalBackend().get_user(bad) is None
    assert PortalBackend().get_user(nobody.pk) == nobody  # the statement still prepared


def test_an_instance_from_a_raw_row_is_converted_as_the_orm_converts_it(world):
    """portal.rows.instance (institutions.selectors.public_detail's one query): a JSON
    column comes as text from a raw statement and as the value from the ORM."""
    from portal.audit import audit_record
    from portal.models import AuditLog
    from portal.rows import instance

    audit_record(actor=world.parent_a, action="portal.notice.read_all", new={"n": [1, 2]})
    row = AuditLog.objects.latest("pk")
    fields = [f for f in AuditLog._meta.concrete_fields if f.name != "old"]  # one deferred
    columns = ", ".join(f'"{f.column}"' for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT {columns} FROM "portal_auditlog" WHERE id = %s', [row.pk])
        values = cursor.fetchone()
    made = instance(AuditLog, fields, values)
    assert made.new == {"n": [1, 2]} == row.new and made.at == row.at
    assert made.get_deferred_fields() == {"old"}
