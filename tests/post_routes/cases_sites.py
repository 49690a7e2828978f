"""POST cases of the sites part (issue 17/19)."""

from tests.post_routes import Case, case  # noqa: F401
