"""Enforcement of the training line: complaints (举报/投诉) and their handling. Models (imported at
the bottom of institutions/models.py, as the escrow's are)."""

from django.db import models  # noqa: F401
