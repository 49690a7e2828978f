"""Enforcement of the training line: inspections (专项整治), 约谈, sanctions and 通报.
Models (imported
at the bottom of institutions/models.py, as the escrow's are)."""

from django.db import models  # noqa: F401
