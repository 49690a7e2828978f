"""Logging filters.

A refusal is the portal working as meant, not a fault: Django logs every 403
(PermissionDenied) and 404 (Http404) on ``django.request`` with the exception attached, so
each one wrote a whole traceback. ``RefusalsOnOneLine`` keeps the record (its level, path
and status: "Forbidden (Permission denied): /afterschool/fees/") and drops the traceback.
Anything else (a 500) keeps its traceback.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404

REFUSALS = (PermissionDenied, Http404)


class RefusalsOnOneLine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, REFUSALS):
            record.exc_info = None
            record.exc_text = None
        return True
