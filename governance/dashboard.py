"""Dashboard panels of the governance registers (each module registers its own)."""

from governance import (  # noqa: F401
    care_dashboard,
    draw_dashboard,
    exam_dashboard,
    letter_dashboard,
    pledge_dashboard,
)
