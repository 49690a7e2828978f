"""POST cases of the people part (issue 17/19)."""

from tests.post_routes import Case, case  # noqa: F401
