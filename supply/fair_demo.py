"""Demo of the matching fair (双向选择会): the autumn term's fair of the demo district, matched.

What it shows: an admitted provider 阳光体育俱乐部 (organisation account ``org_yangguang``, on
the whitelist through afterschool.providers' services) offering 篮球 and 少儿编程; 实验小学
needing 体育 for grades 3–4 and 科技 for grade 5; 第一中学 needing 艺术 for grade 7, which
nobody offers. Both sides ranked, the bureau (``bureau_afterschool``) matched: 实验小学's two
needs are matched (draft contracts at the offers' prices), 第一中学's need is unmatched
(the bureau's page /fair/<id>/unmatched/ and the dashboard panel show it).

``build()`` goes through the fair's services (supply/fair.py); idempotent (a term with a fair
is left as it is). The organisation and its member are created directly: the accounts part of
supply owns their services (NEEDS in the notes)."""

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from afterschool import providers
from afterschool.models import Provider
from institutions.uscc import check_character
from portal.models import SchoolPeriod, SchoolStaff
from supply import fair as fairs
from supply.account_models import Organisation, OrganisationMember
from supply.fair_models import Fair

TERM = "2026-2027学年第一学期"
ORG_USER = "org_yangguang"
ORG_NAME = "阳光体育俱乐部"
ORG_CODE_BODY = "52440199MJ0000001"  # 17 characters; the check character is computed


def _organisation(bureau, created_passwords: list) -> object:
    from portal.demo import _user

    code = ORG_CODE_BODY + check_character(ORG_CODE_BODY)
    provider = Provider.objects.filter(credit_code=code).first()
    if provider is None:
        provider = providers.provider_apply(actor=bureau, name=ORG_NAME, credit_code=code)
        providers.provider_review_qualification(
            actor=bureau, provider_id=provider.pk, licence_checked=True, staff_vetted=True,
            vetting_note="2026-08-20 核验营业执照；12名教练无犯罪记录查询均已完成（课后服务科）",
        )  # fmt: skip
        providers.contract_add(
            actor=bureau, provider_id=provider.pk, items="体育社团（篮球、足球）",
            price_per_lesson=Decimal("45"), outside_price=Decimal("120"),
            start=dt.date(2026, 9, 1), end=dt.date(2027, 7, 3),
        )  # fmt: skip
        provider = providers.provider_admit(actor=bureau, provider_id=provider.pk)
    org, _ = Organisation.objects.get_or_create(
        credit_code=code,
        defaults={"name": ORG_NAME, "kind": Organisation.Kind.PROVIDER, "contact_name": "孙教练",
                  "contact_phone": "13700137003", "provider": provider},
    )  # fmt: skip
    user = _user(ORG_USER, created_passwords=created_passwords)
    OrganisationMember.objects.get_or_create(
        user=user,
        defaults={"organisation": org, "role": OrganisationMember.Role.ADMIN, "name": "孙教练"},
    )
    return user


@transaction.atomic
def build(*, term_name: str = TERM, match: bool = True) -> list[tuple[str, str]]:
    """Create the demo fair; return [(username, password)] of accounts created now."""
    User = get_user_model()
    bureau = User.objects.filter(username="bureau_afterschool").first()
    term = SchoolPeriod.objects.filter(name=term_name, kind=SchoolPeriod.Kind.TERM).first()
    principals = {
        s.user.username: s.user
        for s in SchoolStaff.objects.filter(
            user__username__in=["principal_shiyan", "principal_yizhong"]
        ).select_related("user")
    }
    if bureau is None or term is None or len(principals) < 2:
        return []
    if Fair.objects.filter(term=term).exists():
        return []
    passwords: list[tuple[str, str]] = []
    member = _organisation(bureau, passwords)
    fair = fairs.fair_open(actor=bureau, term_id=term.pk, name=f"{term.name}课后服务双向选择会")
    shiyan, yizhong = principals["principal_shiyan"], principals["principal_yizhong"]

    def need(actor, kind, grades, days, places, budget):
        return fairs.need_post(actor=actor, fair_id=fair.pk, kind=kind, grades=grades,
                               weekdays=days, places=places, budget_per_lesson=budget)  # fmt: skip

    sports = need(shiyan, "sports", [3, 4], [1, 3], 40, "60")
    science = need(shiyan, "science", [5], [3], 25, "55")
    need(yizhong, "arts", [7], [2], 30, "50")  # nobody offers 艺术: stays unmatched

    def offer(title, kind, grades, days, capacity, price, outside):
        return fairs.offer_post(
            actor=member, fair_id=fair.pk, title=title, kind=kind, grades=grades,
            weekdays=days, places=30, capacity=capacity, price_per_lesson=price,
            outside_price=outside,
        )  # fmt: skip

    basketball = offer("篮球", "sports", [3, 4, 5, 6], [1, 3, 4], 2, "45", "120")
    coding = offer("少儿编程", "science", [4, 5, 6], [3], 1, "50", "150")
    fairs.need_rank(actor=shiyan, need_id=sports.pk, offer_ids=[basketball.pk])
    fairs.need_rank(actor=shiyan, need_id=science.pk, offer_ids=[coding.pk])
    fairs.offer_rank(actor=member, offer_id=basketball.pk, need_ids=[sports.pk])
    fairs.offer_rank(actor=member, offer_id=coding.pk, need_ids=[science.pk])
    if match:
        fairs.fair_match(actor=bureau, fair_id=fair.pk)
    return passwords
