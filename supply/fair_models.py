"""Models of the fair part of supply (issue 19); filled by its module."""

__all__: list[str] = []
