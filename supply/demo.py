"""Demo data of supply for the demo district (portal/demo.py loads the district first): the
public call with its experts and organisations (two providers admitted onto the whitelist),
then the matching fair of the autumn term (阳光体育俱乐部, admitted by the call, offers and is
matched), then the course catalogue (a museum and a science centre, an order dispatched and
delivered). Each part goes through its services and adds nothing on a second load; the call
comes first because the fair's provider is the one the call admitted."""

from django.contrib.auth import get_user_model
from django.db import transaction

from portal.demo import refuse_in_production
from supply import call_demo, catalogue_demo, fair_demo


@transaction.atomic
def load_demo() -> list[str]:
    refuse_in_production()
    bureau = get_user_model().objects.filter(username="bureau_afterschool").first()
    if bureau is None:
        return []
    lines = list(call_demo.build(bureau))
    passwords = fair_demo.build() + catalogue_demo.build()
    lines += [f"  {username:<22} {password}" for username, password in passwords]
    return lines
