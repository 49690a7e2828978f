"""Commitment letters (承诺书): every write, one service per change (issue 18, part 2).

Bureau staff of 基础教育 (``is_bureau(user, "governance")``) keep the templates and issue
campaigns; a template version is frozen when a campaign first issues it, and an edit of a
frozen version makes the next version instead (the signed words never change under a
signature). A campaign creates one letter per teacher (every SchoolStaff) of its schools;
each teacher signs their own letter only, once: who, when, which version and the SHA-256 of
the exact text read. One campaign per template title and year; "renew" copies last year's
campaign (same schools, the title's newest version) into the next year.
"""

import datetime as dt
import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance.pledge_models import PledgeCampaign, PledgeLetter, PledgeTemplate
from portal.audit import audit_record
from portal.locks import locked
from portal.models import School, SchoolStaff
from portal.notices import notify
from portal.permissions import is_bureau, require

TITLE_MAX = 100
TEXT_MAX = 5000


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def may_manage(user) -> bool:
    return is_bureau(user, "governance")


# --- templates ------------------------------------------------------------------------------


def _clean_template(title, text) -> tuple[str, str]:
    title, text = (title or "").strip(), (text or "").strip()
    errors = {}
    if not title:
        errors["title"] = "请填写承诺书标题。"
    elif len(title) > TITLE_MAX:
        errors["title"] = f"标题最多 {TITLE_MAX} 个字。"
    if not text:
        errors["text"] = "请填写承诺内容。"
    elif len(text) > TEXT_MAX:
        errors["text"] = f"承诺内容最多 {TEXT_MAX} 个字。"
    if errors:
        raise ValidationError(errors)
    return title, text


def template_save(*, actor, title, text, template_id=None) -> PledgeTemplate:
    """Create a template (version 1), or edit one: in place while no campaign issued it,
    else as its next version (the issued text stays as signed)."""
    require(may_manage(actor))
    title, text = _clean_template(title, text)
    with transaction.atomic():
        if template_id is None:
            if PledgeTemplate.objects.filter(title=title).exists():
                raise ValidationError({"title": "已有同名承诺书模板，请在原模板上修改。"})
            tpl = PledgeTemplate.objects.create(title=title, text=text, version=1)
            audit_record(
                actor=actor,
                action="governance.pledge_template.created",
                obj=tpl,
                new={"title": title, "version": 1},
            )
            return tpl
        tpl = locked(PledgeTemplate.objects.filter(pk=template_id)).get()
        if title != tpl.title:
            raise ValidationError({"title": "模板标题不能修改（各版本同一标题）。"})
        if text == tpl.text:
            return tpl
        if tpl.frozen_at is None:
            old = tpl.text
            tpl.text = text
            tpl.save(update_fields=["text"])
            audit_record(
                actor=actor,
                action="governance.pledge_template.changed",
                obj=tpl,
                old={"text_sha256": text_sha256(old)},
                new={"text_sha256": text_sha256(text)},
            )
            return tpl
        # lock the title's newest version so two editors do not both make "the next" one
        newest = locked(PledgeTemplate.objects.filter(title=title)).order_by("-version").first()
        if newest.pk != tpl.pk and newest.frozen_at is None:
            raise ValidationError(
                {"text": f"已有未发放的新版本（第{newest.version}版），请修改该版本。"}
            )
        new = PledgeTemplate.objects.create(title=title, text=text, version=newest.version + 1)
        audit_record(
            actor=actor,
            action="governance.pledge_template.versioned",
            obj=new,
            old={"version": tpl.version},
            new={"version": new.version},
        )
        return new


# --- campaigns -----------------------------------------------------------------------------


def _issue(actor, template, year, deadline, school_ids, renewed_from=None) -> PledgeCampaign:
    """Inside the caller's transaction, the template's row locked."""
    if PledgeCampaign.objects.filter(template__title=template.title, year=year).exists():
        raise ValidationError({"year": f"{year}年度已发放过“{template.title}”，不能重复发放。"})
    schools = list(School.objects.filter(pk__in=school_ids).order_by("pk"))
    if not schools:
        raise ValidationError({"schools": "请至少选择一所学校。"})
    if len(schools) != len(set(school_ids)):
        raise ValidationError({"schools": "所选学校不存在。"})
    if template.frozen_at is None:
        template.frozen_at = timezone.now()
        template.save(update_fields=["frozen_at"])
    campaign = PledgeCampaign.objects.create(
        template=template,
        year=year,
        deadline=deadline,
        created_by=actor,
        renewed_from=renewed_from,
    )
    campaign.schools.set(schools)
    staff = list(SchoolStaff.objects.filter(school__in=schools).order_by("pk"))
    PledgeLetter.objects.bulk_create(
        [PledgeLetter(campaign=campaign, school_id=s.school_id, staff=s) for s in staff]
    )
    notify(
        [s.user_id for s in staff],
        key=f"governance.pledge:{campaign.pk}",
        message=f"请于 {deadline} 前阅读并签署《{template.title}》（{year}年度）。",
        url="/pledges/mine/",
    )
    return campaign


def _clean_campaign(year, deadline, today) -> None:
    errors = {}
    if year is None or not (2000 <= year <= 2100):
        errors["year"] = "请填写年度（四位数字）。"
    if deadline is None:
        errors["deadline"] = "请填写签署截止日期。"
    elif deadline < today:
        errors["deadline"] = "签署截止日期不能早于今天。"
    if errors:
        raise ValidationError(errors)


def campaign_issue(*, actor, template_id, year, deadline, school_ids, today=None):
    require(may_manage(actor))
    _clean_campaign(year, deadline, today or timezone.localdate())
    with transaction.atomic():
        template = locked(PledgeTemplate.objects.filter(pk=template_id)).first()
        if template is None:
            raise ValidationError({"template": "请选择承诺书模板。"})
        campaign = _issue(actor, template, year, deadline, list(school_ids))
        audit_record(
            actor=actor,
            action="governance.pledge_campaign.issued",
            obj=campaign,
            new={
                "template": template.pk,
                "version": template.version,
                "year": year,
                "deadline": deadline,
                "schools": sorted(school_ids),
                "letters": campaign.letters.count(),
            },
        )
    return campaign


def campaign_renew(*, actor, campaign_id, deadline, today=None) -> PledgeCampaign:
    """Next year's campaign from this one: the same schools (their teachers of today), the
    template title's newest version."""
    require(may_manage(actor))
    with transaction.atomic():
        old = locked(PledgeCampaign.objects.filter(pk=campaign_id)).first()
        if old is None:
            raise ValidationError("承诺书签署活动不存在。")
        year = old.year + 1
        _clean_campaign(year, deadline, today or timezone.localdate())
        title = old.template.title
        template = locked(PledgeTemplate.objects.filter(title=title)).order_by("-version").first()
        campaign = _issue(
            actor,
            template,
            year,
            deadline,
            list(old.schools.values_list("pk", flat=True)),
            renewed_from=old,
        )
        audit_record(
            actor=actor,
            action="governance.pledge_campaign.renewed",
            obj=campaign,
            old={"campaign": old.pk, "year": old.year},
            new={"year": year, "version": template.version, "deadline": deadline},
        )
    return campaign


# --- signing -------------------------------------------------------------------------------


def letter_sign(*, actor, letter_id, agreed: bool, version=None) -> PledgeLetter:
    """The teacher signs their own letter: the text's version and hash as they read it
    (``version``: the version on the page, refused if it is not the letter's)."""
    with transaction.atomic():
        letter = (
            locked(PledgeLetter.objects.filter(pk=letter_id))
            .select_related("campaign__template", "staff")
            .first()
        )
        require(letter is not None and letter.staff.user_id == getattr(actor, "pk", None))
        if letter.signed_at is not None:
            return letter  # already signed: once is enough, the first signature stays
        if not agreed:
            raise ValidationError({"agreed": "请勾选“我已阅读并承诺遵守”后再签署。"})
        template = letter.campaign.template
        if version is not None and version != template.version:
            raise ValidationError({"agreed": "承诺书文本已更新，请刷新页面重新阅读后签署。"})
        letter.signed_at = timezone.now()
        letter.signed_by = actor
        letter.signed_version = template.version
        letter.signed_text_sha256 = text_sha256(template.text)
        letter.save(
            update_fields=["signed_at", "signed_by", "signed_version", "signed_text_sha256"]
        )
        audit_record(
            actor=actor,
            action="governance.pledge_letter.signed",
            obj=letter,
            new={"version": template.version, "text_sha256": letter.signed_text_sha256},
        )
    return letter


def unsigned_after_deadline(for_date: dt.date):
    """(campaign, school, unsigned count) for every campaign past its deadline on
    ``for_date`` with letters still unsigned: the nightly check's rows."""
    from django.db.models import Count

    rows = (
        PledgeLetter.objects.filter(signed_at__isnull=True, campaign__deadline__lt=for_date)
        .values("campaign_id", "school_id")
        .annotate(n=Count("pk"))
        .order_by("campaign_id", "school_id")
    )
    return list(rows)
