"""Funding oversight (经费监管): per-pupil subsidy, teachers' subsidy per lesson, fee cap."""

from afterschool.models import Offering


def publish_problems(offering: Offering) -> list[str]:
    """Why the course's fee keeps it from opening (over the district's cap), in Chinese."""
    return []
