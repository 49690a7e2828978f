"""The bureau's escrow page of a sale not yet paid offers no release, refund or dispute: the
services refuse them ("尚未付款"), the page says why instead of showing buttons that fail."""

from django.urls import reverse

from tests.institutions.helpers import training_staff
from tests.institutions.sale_helpers import make_offer, make_paid_sale


def test_an_unpaid_sale_shows_no_money_actions(client_for, world):
    offer = make_offer()
    page = client_for(training_staff()).get(
        reverse("institutions:escrow_purchase", args=[offer.pk])
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="unpaid"' in html
    assert "/release/" not in html and "/refund/" not in html


def test_a_paid_sale_keeps_its_actions(client_for, world):
    paid = make_paid_sale()
    page = client_for(training_staff()).get(reverse("institutions:escrow_purchase", args=[paid.pk]))
    html = page.content.decode()
    assert 'data-testid="unpaid"' not in html
    assert reverse("institutions:escrow_purchase_action", args=[paid.pk, "release"]) in html
