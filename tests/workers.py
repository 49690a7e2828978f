"""What the tests that start a real Celery worker share."""

from urllib.parse import quote

from django.db import connection


def worker_database_url() -> str:
    """The test database as a DATABASE_URL, for a worker process started by a test."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = s["HOST"] or ""
    if host.startswith("/"):  # unix socket (the embedded server)
        return f"postgres://{auth}@/{s['NAME']}?host={host}"
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{s['NAME']}"
