"""Nightly checks of the supply registers (each module registers its own)."""

from supply import call_checks, catalogue_checks, fair_checks  # noqa: F401
