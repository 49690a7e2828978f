"""The care ledger in the admin: nothing.

Bureau staff never read a pupil's care record (they see counts per school, on the dashboard
and at /care/overview/); the records, their visits and the care staff designation live on
the school's pages only (governance/care_views.py), where every read is audited. Registering
the models here would show the bureau exactly what it must not see.
"""

__all__: list[str] = []
