"""Models of the lunch part of care (issue 17/19); filled by its module."""

__all__: list[str] = []
