"""The institution's side (机构端): its accounts and what its staff may do.

``selling_refusal`` is the one rule of who may sell: an institution on the black list or
suspended by the bureau logs in and reads, never sells (a sale, a course filed for sale).
"""

from institutions import colour
from institutions.models import Institution


def selling_refusal(institution: Institution, *, today=None) -> str | None:
    """Why ``institution`` may not sell now, in Chinese; None when it may."""
    if institution.suspended_reason:
        return (
            f"{institution.name}已被暂停办学（{institution.suspended_reason}），"
            "暂停期间不得招生收费。"
        )
    verdict = colour.verdict(institution, today=today)
    if verdict.colour == colour.BLACK:
        return f"{institution.name}在黑名单上（{'；'.join(verdict.reasons)}），不得招生收费。"
    return None
