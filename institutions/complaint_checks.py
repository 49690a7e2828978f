"""Nightly checks of complaints (举报/投诉) and their handling (imported by
institutions/checks.py).

A complaint not accepted (nor rejected) within PORTAL_COMPLAINT_ACK_WORKING_DAYS working days
of its receipt, or not closed within PORTAL_COMPLAINT_CLOSE_WORKING_DAYS, is a finding of the
line that handles it (the rule's first part is the line, so portal.findings routes it to
that line's staff; the bureau line's, about serving teachers' paid tutoring, is the shared
core's). Working days are the portal's calendar's: a year it does not know fails the rule
with the calendar's message (a run error resolves nothing), never a guess.
"""

from django.conf import settings

from institutions.complaint_models import Complaint
from institutions.complaints import received_on
from portal.compliance import Found, register
from portal.models import Finding
from portal.schoolcalendar import WorkingDays

S = Complaint.Status
RULE_LINE = {
    Complaint.Line.INSTITUTIONS: "institutions",
    Complaint.Line.HOMEWORK: "homework",
    Complaint.Line.AFTERSCHOOL: "afterschool",
    Complaint.Line.BUREAU: "portal",
}


def _overdue(for_date, line, statuses, limit, what):
    rows = list(
        Complaint.objects.filter(line=line, status__in=statuses)
        .select_related("assigned_school")
        .order_by("received_at")
    )
    if not rows:
        return
    days = WorkingDays(received_on(rows[0]), for_date)
    for complaint in rows:
        start = received_on(complaint)
        elapsed = days.between(start, for_date)
        if elapsed > limit:
            # the message names the complaint by number only: never the complainant
            yield Found(
                subject=complaint,
                school=complaint.assigned_school,
                message=f"{complaint}于 {start} 收到，已过 {elapsed} 个工作日仍未{what}"
                f"（期限 {limit} 个工作日）。",
            )


def _register(line, rule_line):
    @register(
        f"{rule_line}.complaint.ack_overdue",
        title=f"举报投诉超期未受理（{Complaint.Line(line).label}）",
        severity=Finding.Severity.WARNING,
    )
    def ack_overdue(for_date):
        yield from _overdue(
            for_date, line, [S.RECEIVED], settings.PORTAL_COMPLAINT_ACK_WORKING_DAYS, "受理"
        )

    @register(
        f"{rule_line}.complaint.close_overdue",
        title=f"举报投诉超期未办结（{Complaint.Line(line).label}）",
        severity=Finding.Severity.SERIOUS,
    )
    def close_overdue(for_date):
        yield from _overdue(
            for_date, line, list(Complaint.OPEN), settings.PORTAL_COMPLAINT_CLOSE_WORKING_DAYS,
            "办结答复",
        )  # fmt: skip

    return ack_overdue, close_overdue


CHECKS = {line: _register(line, rule_line) for line, rule_line in RULE_LINE.items()}
