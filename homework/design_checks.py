"""Nightly checks of the homework design library: none.

The library has no rule a night can find broken: a design waits for review without a
deadline set by any notice, and the minutes of a published item drawn from a design are
already judged by homework's own limit checks (homework/checks.py), like any item's.
"""
