"""The nightly refreshes behind the whitelist's colours and the dashboard's kept panels."""

import pytest

from portal.celery import app
from portal.setup import DAILY_TASKS, ensure_daily_tasks

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("task", "hour", "minute"),
    [
        ("institutions.colour.refresh_due", "0", "5"),
        ("portal.dashboard.snapshots_refresh", "2", "40"),
    ],
)
def test_the_schedule_exists_after_migrate_and_the_worker_knows_the_task(task, hour, minute):
    from django_celery_beat.models import PeriodicTask

    app.loader.import_default_modules()  # what a worker imports when it starts (autodiscovery)
    scheduled = PeriodicTask.objects.get(task=task)
    assert (scheduled.crontab.hour, scheduled.crontab.minute) == (hour, minute)
    assert str(scheduled.crontab.timezone) == "Asia/Shanghai"
    assert task in app.tasks


def test_an_edited_schedule_is_kept():
    from django_celery_beat.models import PeriodicTask

    name = DAILY_TASKS[0][0]
    PeriodicTask.objects.filter(name=name).update(enabled=False)
    ensure_daily_tasks()
    assert PeriodicTask.objects.filter(name=name).count() == 1
    assert not PeriodicTask.objects.get(name=name).enabled
