"""The call pages: who sees what (experts only their assignments, organisations only their
own applications and scores after publication, the public only published results)."""

import pytest
from django.urls import reverse

from supply import calls
from tests.factories import ExpertFactory
from tests.supply import call_helpers
from tests.supply.call_helpers import apply, bureau_officer, close, member, open_call, panel, score

pytestmark = pytest.mark.django_db

fast_passwords = call_helpers.fast_passwords


@pytest.fixture
def setup(db):
    bureau = bureau_officer()
    call = open_call(bureau, admit_count=1)
    m1, m2 = member("org1"), member("org2")
    a1, a2 = apply(call, m1), apply(call, m2)
    close(call)
    experts = panel(bureau, call, 3)
    return bureau, call, (m1, m2), (a1, a2), experts


def test_public_pages_show_calls_without_login(setup, client):
    _b, call, _m, _a, _e = setup
    assert call.title in client.get(reverse("calls:index")).content.decode()
    page = client.get(reverse("calls:detail", args=[call.pk])).content.decode()
    assert "课程方案" in page and "提交时间早者在前" in page
    assert client.get(reverse("calls:result", args=[call.pk])).status_code == 404  # not yet
    assert client.get(reverse("calls:register")).status_code == 200


def test_an_expert_sees_only_assigned_applications(setup, client_for):
    _b, call, _m, (a1, _a2), experts = setup
    c = client_for(experts[0].user)
    assert c.get(reverse("calls:expert_application", args=[a1.pk])).status_code == 200
    c = client_for(ExpertFactory().user)
    assert c.get(reverse("calls:expert_application", args=[a1.pk])).status_code == 404
    assert a1.organisation.name not in c.get(reverse("calls:expert_home")).content.decode()


def test_an_expert_sees_only_their_own_scores_until_all_are_in(setup, client_for):
    _b, call, _m, (a1, a2), (e1, e2, e3) = setup
    score(e1, a1, [11, 22, 20, 10, 5])
    page = client_for(e1.user).get(reverse("calls:expert_application", args=[a1.pk]))
    html = page.content.decode()
    assert 'data-testid="panel-hidden"' in html and 'data-testid="panel-scores"' not in html
    for e in (e1, e2, e3):
        for a in (a1, a2):
            score(e, a, [11, 22, 20, 10, 5])
    html = client_for(e2.user).get(reverse("calls:expert_application", args=[a1.pk]))
    assert 'data-testid="panel-scores"' in html.content.decode()


def test_an_organisation_sees_only_its_own_application_and_scores_after_publication(
    setup, client_for
):
    bureau, call, (m1, m2), (a1, a2), experts = setup
    c = client_for(m1.user)
    assert c.get(reverse("calls:org_application", args=[a2.pk])).status_code == 404
    page = c.get(reverse("calls:org_application", args=[a1.pk])).content.decode()
    assert 'data-testid="scores"' not in page
    for e in experts:
        score(e, a1, [20, 30, 25, 15, 10])
        score(e, a2, [10, 20, 20, 10, 5])
    calls.call_admit(actor=bureau, call_id=call.pk, vetting_note="已查")
    page = c.get(reverse("calls:org_application", args=[a1.pk])).content.decode()
    assert 'data-testid="scores"' in page and "100.00" in page
    result = client_for(None).get(reverse("calls:result", args=[call.pk])).content.decode()
    assert a1.organisation.name in result and a2.organisation.name not in result
    for e in experts:
        assert e.name not in result


def test_documents_are_served_to_the_bureau_the_owner_and_the_panel_only(setup, client_for):
    bureau, _call, (m1, m2), (a1, _a2), experts = setup
    doc = a1.documents.get()
    url = reverse("calls:document", args=[doc.pk])
    for user in (bureau, m1.user, experts[0].user):
        assert client_for(user).get(url).status_code == 200
    assert client_for(m2.user).get(url).status_code == 404
    assert client_for(ExpertFactory().user).get(url).status_code == 404


def test_bureau_pages_refuse_others(setup, client_for, world):
    bureau, call, (m1, _m2), _a, experts = setup
    for name, args in (("bureau_calls", []), ("call_manage", [call.pk]),
                       ("organisations", []), ("experts", [])):  # fmt: skip
        url = reverse(f"calls:{name}", args=args)
        assert client_for(bureau).get(url).status_code == 200
        for user in (m1.user, experts[0].user, world.principal_a, world.bureau):
            assert client_for(user).get(url).status_code == 403, (name, user)


def test_the_ranking_page_queries_do_not_grow_with_applications(
    setup, client_for, django_assert_max_num_queries
):
    bureau, call, _m, _a, _e = setup
    for _ in range(5):
        apply_late = member()
        from supply.call_models import Call

        Call.objects.filter(pk=call.pk).update(deadline=call.deadline.replace(year=2999))
        apply(call, apply_late)
    c = client_for(bureau)
    with django_assert_max_num_queries(25):
        assert c.get(reverse("calls:call_manage", args=[call.pk])).status_code == 200
