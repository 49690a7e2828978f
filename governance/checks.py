"""Nightly checks of the governance registers (each module registers its own)."""

from governance import (  # noqa: F401
    care_checks,
    draw_checks,
    exam_checks,
    letter_checks,
    pledge_checks,
)
