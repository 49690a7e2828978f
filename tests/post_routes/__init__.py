"""The registry of POST cases for tests/test_post_routes.py.

One case is one way to submit to one URL of the project: the URL's name (``app:name``), a
variant when one view takes several actions (``roll_call#move``), and a builder that lays
the data out in a fresh database (``world`` from tests/conftest.py) and returns a ``Case``.
The case modules register themselves with ``@case(...)``; ``load()`` imports them all.

What a case says:

- ``url``, ``user`` (allowed), ``valid`` (the form fields of a valid submission);
- ``state()``: what the valid submission changes (compared before and after);
- ``audit``: the prefix of the audit action the valid submission writes (None: the action
  is not audited, and the case says why in ``unaudited``);
- ``invalid`` and ``error``: an invalid submission and the Chinese message it must show
  (``no_invalid`` says why a route has none, e.g. a button without fields);
- the refused users are named in ``@case(refused=...)`` (see ``REFUSERS``), and a case may
  give its own user for a name in ``who``.
"""

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import Group

from tests.factories import (
    ExpertFactory,
    InstitutionStaffFactory,
    OrganisationMemberFactory,
    ParentFactory,
    SiteOperatorFactory,
    UserFactory,
)

MODULES = ["cases_portal", "cases_homework", "cases_afterschool", "cases_institutions",
           "cases_complaints", "cases_enforcement", "cases_org", "cases_sales",
           "cases_training", "cases_refunds", "cases_designs", "cases_draw", "cases_pledges",
           "cases_care", "cases_exams", "cases_letters",
           "cases_holiday", "cases_sites", "cases_lunch", "cases_people", "cases_funding",
           "cases_calls", "cases_fair", "cases_catalogue",
           "cases_cases"]  # fmt: skip


@dataclass
class Case:
    url: str
    user: object
    valid: dict
    state: Callable[[], object]
    audit: str | None = None
    unaudited: str = ""
    invalid: dict | None = None
    invalid_url: str | None = None  # when the invalid submission goes to another object
    error: str = ""
    no_invalid: str = ""
    who: dict = field(default_factory=dict)
    no_refused: str = ""  # why nobody is refused (a provider's signed callback)
    # uploads: a callable returning {field: SimpleUploadedFile}, fresh for each request
    files: Callable[[], dict] | None = None
    invalid_files: Callable[[], dict] | None = None
    # a raw body (a provider's callback): (content_type, body, headers)
    raw: tuple | None = None
    invalid_raw: tuple | None = None
    # rows that reading a page creates lazily (e.g. a class board): not a write of the form
    ignore: frozenset = frozenset()


@dataclass
class Entry:
    key: str
    url_name: str
    build: Callable
    refused: tuple
    marks: dict  # part ("valid", "invalid", "refused") -> "BUG: ..." (a strict xfail)


REGISTRY: dict[str, Entry] = {}

# Refused users by name: what each name stands for in a world (tests/conftest.py).
REFUSERS = {
    "anonymous": lambda w: None,
    "other_school": lambda w: w.principal_b,  # a principal of another school
    "teacher": lambda w: w.teacher_a,  # a teacher of the same school, not a manager
    "parent": lambda w: w.parent_a,
    "stranger_parent": lambda w: ParentFactory(user__username="stranger_parent").user,
    "school": lambda w: w.principal_a,
    "bureau_homework": lambda w: w.bureau,  # bureau staff of the homework line
    "bureau_afterschool": lambda w: staff_of("课后服务", "bureau_as"),
    "bureau_cases": lambda w: staff_of("案例库", "bureau_cases"),
    "staff_without_group": lambda w: UserFactory(username="bare_staff", is_staff=True),
    # staff (管理员) of a training institution the case did not make: another institution's
    "other_institution": lambda w: InstitutionStaffFactory(user__username="other_inst").user,
    # an operator of a community site the case did not make: another site's
    "other_site": lambda w: SiteOperatorFactory(user__username="other_site_op").user,
    # a member (管理员) of an organisation the case did not make: another organisation's
    "other_organisation": lambda w: OrganisationMemberFactory(user__username="other_org").user,
    # an expert of the pool the case did not assign
    "other_expert": lambda w: ExpertFactory(user__username="other_expert").user,
}


def staff_of(group: str, username: str):
    """Bureau staff of a line of work: is_staff, in the line's group (portal/setup.py)."""
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def case(url_name: str, variant: str = "", *, refused=("anonymous",), xfail=None):
    """Register a case builder for ``url_name`` (``variant``: one action of a multi-action
    view). ``xfail``: {test kind: "BUG: ..."} for a known bug of the app, strict (the lead
    removes it with the fix)."""

    def register(build):
        key = f"{url_name}#{variant}" if variant else url_name
        if key in REGISTRY:
            raise ValueError(f"two cases named {key}")
        unknown = set(refused) - set(REFUSERS)
        if unknown:
            raise ValueError(f"{key}: unknown refused users {unknown}")
        REGISTRY[key] = Entry(key, url_name, build, tuple(refused), dict(xfail or {}))
        return build

    return register


def load() -> dict[str, Entry]:
    for name in MODULES:
        importlib.import_module(f"tests.post_routes.{name}")
    return REGISTRY
