"""Every page of parts 2, 5 and 6 of issue 18 opens for the users it is for, and refuses the
others (anonymous: the login page; the wrong kind: 403)."""

import pytest
from django.urls import reverse

from governance import letters
from tests.governance.pledge_helpers import campaign_for, letter_of, term
from tests.post_routes import staff_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(world):
    term(world.school_a.district)
    c = campaign_for(world)
    letter = letters.letter_send(actor=world.principal_a, title="一封信", body="正文")
    return c, letter_of(c, world.teacher_a), letter


def _pages(world, objects):
    c, pledge_letter, letter = objects
    bureau = ("bureau",)
    return [
        (reverse("pledge:templates"), bureau),
        (reverse("pledge:template_edit", args=[c.template_id]), bureau),
        (reverse("pledge:campaigns"), ("bureau", "principal_a")),
        (reverse("pledge:campaign", args=[c.pk]), ("bureau", "principal_a")),
        (reverse("pledge:mine"), ("teacher_a", "principal_a")),
        (reverse("pledge:letter", args=[pledge_letter.pk]), ("teacher_a",)),
        (reverse("pledge:print", args=[pledge_letter.pk]), ("teacher_a", "principal_a", "bureau")),
        (reverse("exam:calendar"), ("bureau", "principal_a")),
        (reverse("letter:sent"), ("bureau", "principal_a")),
        (reverse("letter:compose"), ("bureau", "principal_a")),
        (reverse("letter:detail", args=[letter.pk]), ("bureau", "principal_a")),
        (reverse("letter:inbox"), ("parent_a",)),
        (reverse("letter:read", args=[letter.pk]), ("parent_a",)),
    ]


def test_each_page_opens_for_its_users(world, objects, client_for):
    for url, users in _pages(world, objects):
        for name in users:
            resp = client_for(getattr(world, name)).get(url)
            assert resp.status_code == 200, (url, name, resp.status_code)


def test_each_page_refuses_anonymous_and_other_lines(world, objects, client_for):
    other_line = staff_of("课后服务", "kh")
    for url, users in _pages(world, objects):
        assert client_for(None).get(url).status_code == 302, url
        assert client_for(other_line).get(url).status_code in (403, 404), url
        for name in ("parent_a", "teacher_a", "bureau", "principal_a"):
            if name not in users:
                assert client_for(getattr(world, name)).get(url).status_code in (403, 404), (
                    url,
                    name,
                )
