"""A row lock that waits too long gives the user the Chinese "please try again" page (503),
never a 500, and writes nothing; and no module takes a row lock without the timeout."""

import ast
import datetime as dt
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections, transaction

from afterschool.models import ClosedDay
from portal.models import AuditLog, School
from tests.post_routes.cases_afterschool import day_close


@pytest.mark.django_db(transaction=True)
def test_a_lock_wait_that_gives_up_is_a_503_and_writes_nothing(world, client_for, monkeypatch):
    monkeypatch.setattr("portal.locks.LOCK_TIMEOUT", "300ms")
    case = day_close(world)
    holding, release = threading.Event(), threading.Event()

    def hold_the_school_lock():
        try:
            with transaction.atomic():
                School.objects.select_for_update().get(pk=world.school_a.pk)
                holding.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_school_lock)
    holder.start()
    try:
        assert holding.wait(30)
        client = client_for(case.user)
        before = (ClosedDay.objects.count(), AuditLog.objects.count())
        response = client.post(case.url, case.valid)
        assert response.status_code == 503
        assert response["Retry-After"] == "5"
        assert "系统繁忙，请稍后重试" in response.content.decode()
        assert (ClosedDay.objects.count(), AuditLog.objects.count()) == before
    finally:
        release.set()
        holder.join(30)
    # once the lock is free the same submission goes through
    response = client.post(case.url, case.valid)
    assert response.status_code == 302
    assert ClosedDay.objects.filter(date=dt.date.fromisoformat(case.valid["date"])).exists()


def test_an_error_that_is_not_a_lock_timeout_stays_an_error():
    from django.db import OperationalError

    from portal.locks import is_lock_timeout

    assert not is_lock_timeout(OperationalError("server closed the connection"))
    assert not is_lock_timeout(ValueError("x"))


def test_every_row_lock_goes_through_portal_locks():
    """select_for_update outside portal/locks.py would wait without a timeout."""
    base = Path(settings.BASE_DIR)
    offenders = []
    for app in ("portal", "institutions", "homework", "afterschool", "cases"):
        for path in sorted((base / app).rglob("*.py")):
            if path == base / "portal" / "locks.py" or "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr == "select_for_update"
                    and isinstance(node.ctx, ast.Load)
                ):
                    offenders.append(f"{path.relative_to(base)}:{node.lineno}")
    assert offenders == []
