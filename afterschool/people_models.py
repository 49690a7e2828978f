"""Models of the people part of care (issue 17/19); filled by its module."""

__all__: list[str] = []
