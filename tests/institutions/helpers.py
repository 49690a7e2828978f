import datetime as dt

from django.contrib.auth.models import Group

from institutions import uscc
from institutions.models import Institution, SupervisedAccount
from institutions.services import institution_register, review_record
from tests.factories import UserFactory

_counter = iter(range(10_000, 99_999))


def credit_code(prefix="91") -> str:
    first17 = f"{prefix}4401{next(_counter):05d}MA00X"[:17].ljust(17, "0")
    return first17 + uscc.check_character(first17)


def training_staff(username="xiaowai"):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name="校外培训"))
    return user


def make_institution(actor, district, *, name="明德学科培训学校", white=True, **overrides):
    """An institution; white=True also gives it a passed review and a supervised account."""
    data = {
        "name": name, "credit_code": credit_code(), "category": Institution.Category.SUBJECT,
        "subjects": ["数学"], "mode": Institution.Mode.OFFLINE,
        "nature": Institution.Nature.NON_PROFIT, "district": district, "scale": 200,
        "licence_number": "教民1234号", "licence_issued": dt.date(2024, 1, 1),
        "licence_expires": dt.date(2027, 12, 31),
    }  # fmt: skip
    data.update(overrides)
    institution = institution_register(actor=actor, **data)
    if white:
        SupervisedAccount.objects.create(
            institution=institution,
            kind="escrow",
            bank="工商银行",
            account_name=name,
            account_number="6222020200112233",
        )
        review_record(
            actor=actor,
            institution_id=institution.pk,
            year=2026,
            result="passed",
            date=dt.date(2026, 6, 30),
        )
    return institution
