"""Dashboard panels of the supply registers (each module registers its own)."""

from supply import call_dashboard, catalogue_dashboard, fair_dashboard  # noqa: F401
