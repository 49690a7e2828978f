"""Pages of commitment letters (承诺书), mounted at /pledges/ (namespace "pledge").

- Bureau staff of 基础教育: templates (versions), campaigns (issue, renew), each campaign's
  progress per school with who has not signed.
- A school's principal or 教导处: their school's part of each campaign, who has not signed.
- Every teacher: their own letters, read and signed on a phone; another teacher's is a 404.
- The print page of a signed letter (the teacher, their school's managers, the bureau).

The doors stay thin: parse, call one service of governance/pledges.py, render.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from governance import pledge_selectors as selectors
from governance import pledges
from governance.pledge_forms import CampaignForm, RenewForm, SignForm, TemplateForm
from portal.access import get_scoped_or_404
from portal.permissions import SCHOOL, bureau_required, kind_required, passes

ERROR_STATUS = 400


def _errors(form, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _may_see_campaigns(user) -> bool:
    from portal.permissions import is_bureau, is_school_manager

    return is_bureau(user, "governance") or is_school_manager(user)


@bureau_required(line="governance")
def templates(request):
    form = TemplateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tpl = pledges.template_save(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"已保存：{tpl}")
            return redirect("pledge:templates")
    status = ERROR_STATUS if form.errors else 200
    return render(
        request,
        "governance/pledge/templates.html",
        {"form": form, "rows": selectors.templates()},
        status=status,
    )


@bureau_required(line="governance")
def template_edit(request, pk):
    from governance.pledge_models import PledgeTemplate

    tpl = get_scoped_or_404(PledgeTemplate.objects.all(), request.user, pk=pk)
    form = TemplateForm(request.POST or None, initial={"title": tpl.title, "text": tpl.text})
    if request.method == "POST" and form.is_valid():
        try:
            saved = pledges.template_save(
                actor=request.user, template_id=tpl.pk, **form.cleaned_data
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            if saved.pk != tpl.pk:
                messages.success(request, f"原版本已发放，修改已保存为第{saved.version}版。")
            else:
                messages.success(request, "已保存。")
            return redirect("pledge:template_edit", pk=saved.pk)
    status = ERROR_STATUS if form.errors else 200
    return render(
        request, "governance/pledge/template_edit.html", {"form": form, "tpl": tpl}, status=status
    )


@passes(_may_see_campaigns)
def campaigns(request):
    from portal.permissions import is_bureau

    bureau = is_bureau(request.user, "governance")
    form = None
    if bureau:
        form = CampaignForm(
            request.POST or None,
            templates=selectors.templates(),
            schools=selectors.school_options(),
        )
    if request.method == "POST":
        if form is None:  # a school's manager reads campaigns, never issues one
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                c = pledges.campaign_issue(
                    actor=request.user,
                    template_id=data["template"].pk,
                    year=data["year"],
                    deadline=data["deadline"],
                    school_ids=data["schools"],
                )
            except ValidationError as exc:
                _errors(form, exc)
            else:
                messages.success(request, f"已发放：{c}")
                return redirect("pledge:campaign", pk=c.pk)
    status = ERROR_STATUS if form is not None and form.errors else 200
    return render(
        request,
        "governance/pledge/campaigns.html",
        {"form": form, "rows": selectors.campaigns(request.user)},
        status=status,
    )


@passes(_may_see_campaigns)
def campaign(request, pk):
    c = selectors.campaign(request.user, pk)
    return render(
        request,
        "governance/pledge/campaign.html",
        {
            "c": c,
            "schools": selectors.campaign_schools(request.user, c),
            "unsigned": selectors.campaign_letters(request.user, c, unsigned_only=True),
            "letters": selectors.campaign_letters(request.user, c),
            "renew_form": RenewForm(),
            "may_renew": pledges.may_manage(request.user),
        },
    )


@require_POST
@bureau_required(line="governance")
def renew(request, pk):
    c = selectors.campaign(request.user, pk)
    form = RenewForm(request.POST)
    if form.is_valid():
        try:
            new = pledges.campaign_renew(
                actor=request.user, campaign_id=c.pk, deadline=form.cleaned_data["deadline"]
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"已续签：{new}")
            return redirect("pledge:campaign", pk=new.pk)
    return render(
        request,
        "governance/pledge/campaign.html",
        {
            "c": c,
            "schools": selectors.campaign_schools(request.user, c),
            "unsigned": selectors.campaign_letters(request.user, c, unsigned_only=True),
            "letters": selectors.campaign_letters(request.user, c),
            "renew_form": form,
            "may_renew": True,
        },
        status=ERROR_STATUS,
    )


@kind_required(SCHOOL)
def mine(request):
    return render(
        request, "governance/pledge/mine.html", {"rows": selectors.my_letters(request.user)}
    )


@kind_required(SCHOOL)
def letter(request, pk):
    obj = selectors.my_letter(request.user, pk)
    form = SignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pledges.letter_sign(
                actor=request.user,
                letter_id=obj.pk,
                agreed=form.cleaned_data["agreed"],
                version=form.cleaned_data["version"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, "签署成功，感谢您的承诺。")
            return redirect("pledge:letter", pk=obj.pk)
    status = ERROR_STATUS if form.errors else 200
    return render(
        request,
        "governance/pledge/letter.html",
        {"letter": obj, "tpl": obj.campaign.template, "form": form},
        status=status,
    )


@passes(lambda user: _may_see_campaigns(user) or selectors.is_school_user(user))
def print_letter(request, pk):
    obj = selectors.printable_letter(request.user, pk)
    return render(
        request, "governance/pledge/print.html", {"letter": obj, "tpl": obj.campaign.template}
    )
