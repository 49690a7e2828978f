"""Volunteers and resource people (志愿者与社会资源人员): the register, vetting, hours."""

from afterschool.models import Offering


def publish_problems(offering: Offering) -> list[str]:
    """Why the course's people keep it from opening (a lapsed vetting), in Chinese."""
    return []
