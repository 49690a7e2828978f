"""The session engine: Django's database sessions, with the session read by a fixed
statement.

Every signed-in request reads its session first. Django's ``db`` engine builds and compiles
the same queryset for it on every request (issue 20, the enrolment burst: a tenth of an
enrolment's Python); this engine sends the statement it would send, written once and
prepared once per database connection. Saving,
creating, deleting and expiring are Django's own.
"""

from django.contrib.sessions.backends import db
from django.utils import timezone

from portal import prepared


class SessionStore(db.SessionStore):
    _sql = None

    @classmethod
    def _statement(cls) -> str:
        if cls._sql is None:
            model = cls.get_model_class()
            cls._sql = (
                f'SELECT "session_data", "expire_date" FROM "{model._meta.db_table}"'
                ' WHERE "session_key" = %s AND "expire_date" > %s'
            )
        return cls._sql

    def _get_session_from_db(self):
        """The session's row if it exists and has not expired, else None (and the key is
        dropped, as Django's engine does: a new one is made when the session is saved)."""
        row = None
        if self.session_key is not None:  # prepared once per connection (portal.prepared)
            row = prepared.fetch(self._statement(), [self.session_key, timezone.now()], one=True)
        if row is None:
            self._session_key = None
            return None
        return self.model(session_key=self.session_key, session_data=row[0], expire_date=row[1])
