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

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

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
        users = get_user_model()._default_manager.select_related(*USER_WITH)
        try:
            user = users.get(pk=user_id)
        except users.model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
