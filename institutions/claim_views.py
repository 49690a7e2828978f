"""Pages of 消课 claims, mounted at /training/ (namespace "training").

- Parents (phone-first, 390 px): 我的校外培训 (``my``): each purchase with what was paid,
  claimed, confirmed, disputed, released and refundable now, the institution's colour and
  record, and the claims waiting for an answer; one purchase (``purchase``) with its claims
  to confirm or dispute and its history. Another parent's purchase or claim: 404.
- An institution's 管理员 or 教务/前台: the claims list with the courses (``claims``) and the
  claim form of a course (``course_claim``), ticking the buyers of one lesson. Another
  institution's course or purchase: 404.

The doors stay thin: parse, call one service of institutions/claims.py, render.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from institutions import claim_selectors as selectors
from institutions import claims
from institutions.account_models import InstitutionStaff
from institutions.claim_forms import ClaimForm, DisputeForm
from institutions.claim_models import LessonClaim
from institutions.escrow_models import Purchase
from institutions.models import Course
from portal import params
from portal.access import get_scoped_or_404, scope
from portal.permissions import PARENT, institution_required, kind_required
from portal.views import errors_to_form

R = InstitutionStaff.Role
S = LessonClaim.Status


# --- parents --------------------------------------------------------------------------------


@kind_required(PARENT)
def my(request):
    views = selectors.parent_purchases(request.user)
    cards = selectors.institution_cards([v.purchase for v in views])
    for v in views:
        v.card = cards[v.purchase.institution_id]
    return render(
        request,
        "institutions/training/my.html",
        {
            "views": views,
            "to_answer": sum(len(v.pending) for v in views),
            "confirm_days": claims.confirm_days(),
        },
    )


def _purchase_page(request, pk, *, dispute_form=None, dispute_claim=None, status=200):
    try:
        data = selectors.parent_purchase(request.user, pk)
    except Purchase.DoesNotExist:
        raise Http404 from None
    context = {
        **data,
        "card": selectors.institution_cards([data["view"].purchase]).popitem()[1],
        "dispute_form": dispute_form,
        "dispute_claim": dispute_claim,
        "confirm_days": claims.confirm_days(),
        "auto_note": claims.AUTO_NOTE,
    }
    return render(request, "institutions/training/purchase.html", context, status=status)


@kind_required(PARENT)
def purchase(request, pk):
    return _purchase_page(request, pk)


@kind_required(PARENT)
@require_POST
def claim_confirm(request, pk):
    claim = get_scoped_or_404(LessonClaim.objects.all(), request.user, pk=pk)
    try:
        claims.claim_confirm(actor=request.user, claim_id=claim.pk)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, f"已确认 {claim.date:%Y-%m-%d} {claim.start:%H:%M} 的消课。")
    return redirect("training:purchase", pk=claim.purchase_id)


@kind_required(PARENT)
@require_POST
def claim_dispute(request, pk):
    claim = get_scoped_or_404(LessonClaim.objects.all(), request.user, pk=pk)
    form = DisputeForm(request.POST)
    if form.is_valid():
        try:
            _claim, code = claims.claim_dispute(
                actor=request.user, claim_id=claim.pk, reason=form.cleaned_data["reason"],
                complain=form.cleaned_data["complain"],
            )  # fmt: skip
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            text = "已提出异议，该笔预收费暂停释放，教育局校外培训科将处理。"
            if code:
                text += f"举报投诉已提交，查询码：{code}（请保存，凭此查询办理进度）。"
            messages.success(request, text)
            return redirect("training:purchase", pk=claim.purchase_id)
    return _purchase_page(
        request, claim.purchase_id, dispute_form=form, dispute_claim=claim.pk, status=200
    )


# --- the institution ------------------------------------------------------------------------

CLAIMERS = (R.ADMIN, R.DESK)


@institution_required(*CLAIMERS)
def claim_list(request):
    status = params.query_choice(request, "status", S.values, default="")
    return render(
        request,
        "institutions/training/claims.html",
        {
            "courses": selectors.institution_courses(request.user),
            "claims": selectors.institution_claims(request.user, status=status),
            "status": status,
            "statuses": S.choices,
            "confirm_days": claims.confirm_days(),
        },
    )


@institution_required(*CLAIMERS)
def course_claim(request, pk):
    course = get_scoped_or_404(Course.objects.all(), request.user, pk=pk)
    buyers = list(selectors.claimable_purchases(request.user, course))
    mine = scope(Purchase.objects.filter(course=course), request.user)
    form = ClaimForm(request.POST or None, purchases=mine)
    if request.method == "POST":
        posted = {x for x in request.POST.getlist("purchases") if x.isdigit() and len(x) < 19}
        if posted and scope(Purchase.objects.all(), request.user).filter(
            pk__in=posted
        ).count() != len(posted):
            raise Http404  # another institution's purchase
        if form.is_valid():
            d = form.cleaned_data
            try:
                done = claims.claim_record(
                    actor=request.user, course_id=course.pk,
                    purchase_ids=[int(x) for x in d["purchases"]], date=d["date"],
                    start=d["start"], end=d["end"], lessons=d["lessons"],
                )  # fmt: skip
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(
                    request,
                    f"已为 {len(done)} 位购买人登记 "
                    f"{d['date']:%Y-%m-%d} {d['start']:%H:%M} 的消课，"
                    "等待家长确认。",
                )
                return redirect("training:claims")
    ticked = set(form["purchases"].value() or []) if form.is_bound else set()
    return render(
        request,
        "institutions/training/course_claim.html",
        {"course": course, "form": form, "buyers": buyers, "ticked": ticked},
    )
