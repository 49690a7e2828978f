"""The Celery app: broker and results on Redis, schedule from django-celery-beat.

Its configuration is the CELERY_* settings of portal/settings.py. How messages are delivered
(acks late, reject on worker lost, prefetch 1, the Redis visibility timeout measured against
PORTAL_CHECK_RUN_TIMEOUT) is chosen and explained there, under "Delivery"; the check chunks'
time limits and retries after a lost worker on the task itself (portal/tasks.py).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
