"""Pages of the matching fair (双向选择会), mounted at /fair/ (namespace "fair").

- Bureau staff of 课后服务: the fairs, open one for a term, close it, run the matching once,
  the unmatched needs per school.
- A school's principal or 教导处: post needs to a fair of its district, rank the compatible
  offers for each need, see its matches (another school's need is a 404).
- An admitted provider's members (organisation account): post offers, rank the compatible
  needs for each offer, see their matches (another organisation's offer is a 404).

The doors stay thin: parse, call one service of supply/fair.py, render."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from portal.permissions import passes
from portal.views import errors_to_form, messages_from
from supply import fair as fairs
from supply import fair_selectors as selectors
from supply.fair_forms import FairForm, NeedForm, OfferForm, RankForm

ERROR_STATUS = 400


def _status(form):
    return ERROR_STATUS if form.errors else 200


@passes(fairs.may_see)
def index(request):
    return render(
        request,
        "supply/fair_index.html",
        {"fairs": selectors.fairs(request.user), "may_run": fairs.may_run(request.user)},
    )


@passes(fairs.may_run)
def open_fair(request):
    form = FairForm(request.POST or None, terms=selectors.term_options())
    if request.method == "POST" and form.is_valid():
        try:
            fair = fairs.fair_open(
                actor=request.user,
                term_id=form.cleaned_data["term"],
                name=form.cleaned_data["name"],
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"已开始“{fair.name}”。")
            return redirect("fair:detail", pk=fair.pk)
    return render(request, "supply/fair_open.html", {"form": form}, status=_status(form))


@passes(fairs.may_see)
def detail(request, pk):
    fair = selectors.fair(request.user, pk)
    user = request.user
    context = {"fair": fair, "may_run": fairs.may_run(user)}
    if context["may_run"]:
        context["summary"] = selectors.summary(fair)
        context["matches"] = selectors.my_matches(user, fair)
    if fairs.may_need(user):
        context["needs"] = selectors.my_needs(user, fair)
        context["may_need"] = True
    if fairs.may_offer(user):
        context["offers"] = selectors.my_offers(user, fair)
        context["matches"] = selectors.my_matches(user, fair)
        context["may_offer"] = True
    return render(request, "supply/fair_detail.html", context)


@require_POST
@passes(fairs.may_run)
def close(request, pk):
    fair = selectors.fair(request.user, pk)
    try:
        fairs.fair_close(actor=request.user, fair_id=fair.pk)
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        messages.success(request, "已截止：不再接受发布和填报志愿。")
    return redirect("fair:detail", pk=fair.pk)


@require_POST
@passes(fairs.may_run)
def run_match(request, pk):
    fair = selectors.fair(request.user, pk)
    try:
        made = fairs.fair_match(actor=request.user, fair_id=fair.pk)
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        messages.success(request, f"匹配完成：{len(made)}项需求已匹配，已生成合同草案。")
    return redirect("fair:detail", pk=fair.pk)


@passes(fairs.may_run)
def unmatched(request, pk):
    fair = selectors.fair(request.user, pk)
    return render(
        request,
        "supply/fair_unmatched.html",
        {"fair": fair, "rows": selectors.unmatched_by_school(fair)},
    )


@passes(fairs.may_need)
def need_new(request, pk):
    fair = selectors.fair(request.user, pk)
    form = NeedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            need = fairs.need_post(actor=request.user, fair_id=fair.pk, **data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "需求已发布，请填报志愿。")
            return redirect("fair:need", pk=need.pk)
    return render(
        request, "supply/fair_need_new.html", {"fair": fair, "form": form}, status=_status(form)
    )


@passes(fairs.may_need)
def need(request, pk):
    """One need: its match, and its ranking of the compatible offers (a POST ranks)."""
    item = selectors.need(request.user, pk)
    form = RankForm(
        request.POST or None,
        candidates=selectors.offers_for_need(item),
        label_of=lambda o: f"{o.organisation.name}·{o.title}",
    )
    if request.method == "POST" and form.is_valid():
        try:
            fairs.need_rank(actor=request.user, need_id=item.pk, offer_ids=form.ranking)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"志愿已保存（{len(form.ranking)}个）。")
            return redirect("fair:need", pk=item.pk)
    return render(
        request,
        "supply/fair_need.html",
        {"need": item, "fair": item.fair, "form": form,
         "match": getattr(item, "match", None)},
        status=_status(form),
    )  # fmt: skip


@passes(fairs.may_offer)
def offer_new(request, pk):
    fair = selectors.fair(request.user, pk)
    form = OfferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            offer = fairs.offer_post(actor=request.user, fair_id=fair.pk, **form.cleaned_data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "供给已发布，请填报志愿。")
            return redirect("fair:offer", pk=offer.pk)
    return render(
        request, "supply/fair_offer_new.html", {"fair": fair, "form": form}, status=_status(form)
    )


@passes(fairs.may_offer)
def offer(request, pk):
    """One offer: its matches, and its ranking of the compatible needs (a POST ranks)."""
    item = selectors.offer(request.user, pk)
    form = RankForm(
        request.POST or None,
        candidates=selectors.needs_for_offer(item),
        label_of=lambda n: f"{n.school.name}·{n.get_kind_display()}",
    )
    if request.method == "POST" and form.is_valid():
        try:
            fairs.offer_rank(actor=request.user, offer_id=item.pk, need_ids=form.ranking)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"志愿已保存（{len(form.ranking)}个）。")
            return redirect("fair:offer", pk=item.pk)
    return render(
        request,
        "supply/fair_offer.html",
        {"offer": item, "fair": item.fair, "form": form,
         "matches": item.matches.select_related("need__school", "contract")},
        status=_status(form),
    )  # fmt: skip


@require_POST
@passes(fairs.may_need)
def need_withdraw(request, pk):
    item = selectors.need(request.user, pk)
    try:
        fairs.need_withdraw(actor=request.user, need_id=item.pk)
    except ValidationError as exc:
        messages_from(request, exc)
        return redirect("fair:need", pk=item.pk)
    messages.success(request, "需求已撤回。")
    return redirect("fair:detail", pk=item.fair_id)


@require_POST
@passes(fairs.may_offer)
def offer_withdraw(request, pk):
    item = selectors.offer(request.user, pk)
    try:
        fairs.offer_withdraw(actor=request.user, offer_id=item.pk)
    except ValidationError as exc:
        messages_from(request, exc)
        return redirect("fair:offer", pk=item.pk)
    messages.success(request, "供给已撤回。")
    return redirect("fair:detail", pk=item.fair_id)
