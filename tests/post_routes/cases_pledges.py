"""POST cases of commitment letters (承诺书, /pledges/): templates, issuing and renewing a
campaign (基础教育 staff), and a teacher signing their own letter."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from governance import pledges
from governance.pledge_models import PledgeCampaign, PledgeLetter, PledgeTemplate
from tests.governance.pledge_helpers import TEXT
from tests.post_routes import Case, case

# the bureau's pages: anonymous → login; schools, parents, other lines' staff → 403
BUREAU_REFUSED = (
    "anonymous",
    "school",
    "teacher",
    "parent",
    "bureau_afterschool",
    "staff_without_group",
)


def _campaign(w):
    tpl = pledges.template_save(actor=w.bureau, title="教师承诺书", text=TEXT)
    today = timezone.localdate()
    return pledges.campaign_issue(
        actor=w.bureau,
        template_id=tpl.pk,
        year=today.year,
        deadline=today + dt.timedelta(days=30),
        school_ids=[w.school_a.pk],
    )


@case("pledge:templates", refused=BUREAU_REFUSED)
def templates(w):
    return Case(
        url=reverse("pledge:templates"),
        user=w.bureau,
        valid={"title": "教师承诺书", "text": TEXT},
        state=lambda: list(PledgeTemplate.objects.values_list("title", "version")),
        audit="governance.pledge_template.created",
        invalid={"title": "教师承诺书", "text": ""},
        error="请填写承诺内容。",
    )


@case("pledge:template_edit", refused=BUREAU_REFUSED)
def template_edit(w):
    tpl = pledges.template_save(actor=w.bureau, title="教师承诺书", text="草稿")
    return Case(
        url=reverse("pledge:template_edit", args=[tpl.pk]),
        user=w.bureau,
        valid={"title": "教师承诺书", "text": TEXT},
        state=lambda: list(PledgeTemplate.objects.values_list("text", "version")),
        audit="governance.pledge_template.changed",
        invalid={"title": "另一个标题", "text": TEXT},
        error="模板标题不能修改（各版本同一标题）。",
    )


@case("pledge:campaigns", refused=BUREAU_REFUSED)
def campaigns(w):
    tpl = pledges.template_save(actor=w.bureau, title="教师承诺书", text=TEXT)
    today = timezone.localdate()
    return Case(
        url=reverse("pledge:campaigns"),
        user=w.bureau,
        valid={
            "template": tpl.pk,
            "year": today.year,
            "deadline": (today + dt.timedelta(days=30)).isoformat(),
            "schools": [w.school_a.pk],
        },
        state=lambda: (PledgeCampaign.objects.count(), PledgeLetter.objects.count()),
        audit="governance.pledge_campaign.issued",
        invalid={
            "template": tpl.pk,
            "year": today.year,
            "deadline": (today - dt.timedelta(days=1)).isoformat(),
            "schools": [w.school_a.pk],
        },
        error="签署截止日期不能早于今天。",
    )


@case("pledge:renew", refused=BUREAU_REFUSED)
def renew(w):
    c = _campaign(w)
    next_year = dt.date(c.year + 1, 9, 30)
    return Case(
        url=reverse("pledge:renew", args=[c.pk]),
        user=w.bureau,
        valid={"deadline": next_year.isoformat()},
        state=lambda: list(PledgeCampaign.objects.values_list("year", flat=True).order_by("year")),
        audit="governance.pledge_campaign.renewed",
        invalid={"deadline": ""},
        error="请填写签署截止日期。",
    )


@case("pledge:letter", refused=("anonymous", "school", "other_school", "parent", "bureau_homework"))
def sign(w):
    c = _campaign(w)
    letter = PledgeLetter.objects.get(campaign=c, staff__user=w.teacher_a)
    return Case(
        url=reverse("pledge:letter", args=[letter.pk]),
        user=w.teacher_a,
        valid={"agreed": "on", "version": c.template.version},
        state=lambda: PledgeLetter.objects.values_list("signed_at", flat=True).get(pk=letter.pk),
        audit="governance.pledge_letter.signed",
        invalid={"version": c.template.version},
        error="请勾选“我已阅读并承诺遵守”后再签署。",
    )
