"""The user of every request in one query, with what the portal asks of it at once.

Each signed-in request loads its user (``AuthenticationMiddleware``, through the session's
backend ``get_user``), and the first permission check asks whether the user is school
staff, then a parent (``portal.access.Viewer.kind``): with Django's ``ModelBackend`` that
is three queries. ``PortalBackend`` reads the user with their ``school_staff`` and
``parent`` rows joined (a missing one is cached as absent, so asking costs nothing):
one query (issue 20, the enrolment burst: 2,000 parents at once).

Sessions record the backend that signed the user in: a password login now records this
one. Django's ``ModelBackend`` stays listed after it for sessions made before (and tests
that log in with it); so that a wrong password is not hashed a second time by it, this
backend ends the attempt when it refuses credentials it was given (``PermissionDenied``:
Django then sends ``user_login_failed`` once, which axes counts, as before).
"""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db import connection

from portal.rows import Rows

# the user's one-to-one rows that ``portal.access.Viewer.kind`` asks for first
USER_WITH = ("school_staff", "parent")


class PortalBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and password is not None:
            # ModelBackend (listed next for older sessions) would check the same password
            # against the same row again: stop here; the login still fails once
            raise PermissionDenied
        return user

    async def aauthenticate(self, request, username=None, password=None, **kwargs):
        user = await super().aauthenticate(request, username=username, password=password, **kwargs)
        if user is None and password is not None:
            raise PermissionDenied
        return user

    def get_user(self, user_id):
        # a fixed statement (portal.rows): the same instances as
        # select_related(*USER_WITH).get(pk=user_id), without compiling it on every request
        rows, highest = _user_rows()
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):  # a session's id that is not a number
            return None
        if not 0 < user_id <= highest:  # not a key of the table's type
            return None
        user = rows.get([user_id])
        return user if user is not None and self.user_can_authenticate(user) else None


@functools.cache
def _user_rows() -> tuple[Rows, int]:
    """The user and the rows of ``USER_WITH``, left-joined (a missing one cached as absent:
    asking for it raises RelatedObjectDoesNotExist, as after select_related); and the
    highest key the user table's id column holds (auth_user.id is an integer, not a
    bigint)."""
    User = get_user_model()
    _low, highest = connection.ops.integer_field_range(User._meta.pk.get_internal_type())
    tables, links = [("u", User, f'"{User._meta.db_table}" u')], []
    for i, name in enumerate(USER_WITH):
        rel = User._meta.get_field(name)  # the reverse one-to-one
        model, column = rel.related_model, rel.field.column
        alias = f"r{i}"
        tables.append(
            (alias, model, f'LEFT JOIN "{model._meta.db_table}" {alias}'
                           f' ON {alias}."{column}" = u."{User._meta.pk.column}"')
        )  # fmt: skip
        links += [("u", name, alias), (alias, rel.field.name, "u")]
    return Rows(tables=tables, links=links, where=f'u."{User._meta.pk.column}" = %s'), highest
