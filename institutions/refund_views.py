"""Pages of refunds (退费), mounted at /refunds/ (namespace "refunds").

- Parents (phone-first): their paid purchases (``mine``), the refund request form of one
  (``ask``, the purchase's pk), a request's status (``status``). Another parent's: 404.
- The institution's 管理员 and 财务 (机构端): the requests (``list``), one with its answer form
  (``answer``). Another institution's: 404; its 教务/前台: 403.
- Bureau 校外培训 staff: refused and overdue requests (``bureau``), one with its decision
  form (``decide``); the batch refund of a closed or suspended institution (``batch``: a
  preview, then a confirmed run), its result page and Excel (``batch_result``,
  ``batch_excel``).

The doors stay thin: parse, call one service of institutions/refunds.py, render.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from institutions import refund_selectors as selectors
from institutions import refunds
from institutions.account_models import InstitutionStaff
from institutions.escrow import escrow_balances, purchase_sums
from institutions.escrow_models import Purchase
from institutions.models import Institution, SupervisedAccount
from institutions.refund_forms import AnswerForm, AskForm, BatchForm, DecideForm
from institutions.refund_models import RefundBatch
from portal.access import get_scoped_or_404
from portal.permissions import PARENT, bureau_required, institution_required, kind_required
from portal.views import errors_to_form

ERROR_STATUS = 400
ANSWERERS = (InstitutionStaff.Role.ADMIN, InstitutionStaff.Role.FINANCE)


def _found(request, pk):
    item = selectors.request_for(request.user, pk)
    if item is None:
        raise Http404
    return item


# --- parents --------------------------------------------------------------------------------


@kind_required(PARENT)
def mine(request):
    return render(request, "institutions/refunds/mine.html", {
        "purchases": selectors.parent_purchases(request.user),
        "requests": selectors.parent_requests(request.user),
    })  # fmt: skip


@kind_required(PARENT)
def ask(request, pk):
    purchase = get_scoped_or_404(
        Purchase.objects.select_related("institution", "course"), request.user, pk=pk
    )
    form = AskForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            made = refunds.request_ask(
                actor=request.user, purchase_id=purchase.pk, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, f"退费申请已提交，机构应在 {made.deadline} 前答复。")
            return redirect("refunds:status", pk=made.pk)
    if request.method == "POST":
        status = ERROR_STATUS
    return render(request, "institutions/refunds/ask.html", {
        "purchase": purchase, "form": form, "sums": purchase_sums(purchase),
        "refusal": refunds.ask_refusal(purchase),
        "unconsumed_lessons": refunds.unconsumed_lessons(purchase),
        "deadline": refunds.answer_deadline(timezone.localdate()),
    }, status=status)  # fmt: skip


@kind_required(PARENT)
def status(request, pk):
    item = _found(request, pk)
    return render(request, "institutions/refunds/status.html", {
        "r": item, "sums": purchase_sums(item.purchase),
    })  # fmt: skip


# --- the institution ------------------------------------------------------------------------


@institution_required(*ANSWERERS)
def org_list(request):
    return render(request, "institutions/refunds/org_list.html", {
        "rows": selectors.org_requests(request.user), "today": timezone.localdate(),
    })  # fmt: skip


@institution_required(*ANSWERERS)
def answer(request, pk):
    item = _found(request, pk)
    form = AnswerForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            refunds.request_answer(
                actor=request.user, request_id=item.pk,
                agree=form.cleaned_data["decision"] == "agree",
                reason=form.cleaned_data["reason"],
            )  # fmt: skip
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "已答复。")
            return redirect("refunds:answer", pk=item.pk)
    if request.method == "POST":
        status = ERROR_STATUS
        item = _found(request, pk)
    return render(request, "institutions/refunds/answer.html", {
        "r": item, "form": form, "sums": purchase_sums(item.purchase),
        "today": timezone.localdate(),
    }, status=status)  # fmt: skip


# --- the bureau -----------------------------------------------------------------------------


@bureau_required(line="institutions")
def bureau(request):
    return render(request, "institutions/refunds/bureau.html", {
        "queue": selectors.bureau_queue(), "recent": selectors.bureau_recent(),
        "candidates": selectors.batch_candidates(), "today": timezone.localdate(),
    })  # fmt: skip


@bureau_required(line="institutions")
def decide(request, pk):
    item = get_object_or_404(selectors.with_related(), pk=pk)
    form = DecideForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            refunds.request_decide(
                actor=request.user, request_id=item.pk,
                refund=form.cleaned_data["decision"] == "refund",
                reason=form.cleaned_data["reason"],
            )  # fmt: skip
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, "已作出决定。")
            return redirect("refunds:decide", pk=item.pk)
    if request.method == "POST":
        status = ERROR_STATUS
        item = get_object_or_404(selectors.with_related(), pk=pk)
    return render(request, "institutions/refunds/decide.html", {
        "r": item, "form": form, "sums": purchase_sums(item.purchase),
        "may_decide": refunds.bureau_may_decide(item),
    }, status=status)  # fmt: skip


def _preview(institution):
    rows = refunds.batch_rows(institution)
    totals = {
        "paid": sum((r.paid for r in rows), refunds.ZERO),
        "unconsumed": sum((r.unconsumed for r in rows), refunds.ZERO),
        "refundable": sum((r.refundable for r in rows), refunds.ZERO),
        "shortfall": sum((r.shortfall for r in rows), refunds.ZERO),
    }
    return rows, totals


@bureau_required(line="institutions")
def batch(request, pk):
    institution = get_object_or_404(Institution, pk=pk)
    form = BatchForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        if not form.cleaned_data["confirm"]:
            form.add_error("confirm", "请先核对预览，并勾选确认后再执行批量退费。")
        else:
            try:
                done = refunds.batch_run(
                    actor=request.user, institution_id=institution.pk,
                    reason=form.cleaned_data["reason"],
                )  # fmt: skip
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, f"批量退费已执行：{done.purchases} 笔。")
                return redirect("refunds:batch_result", pk=done.pk)
    if request.method == "POST":
        status = ERROR_STATUS
    rows, totals = _preview(institution)
    account = SupervisedAccount.objects.filter(institution=institution).first()
    balance = escrow_balances([institution.pk])[institution.pk]
    return render(request, "institutions/refunds/batch.html", {
        "institution": institution, "rows": rows, "totals": totals, "form": form,
        "refusal": refunds.batch_refusal(institution), "account": account,
        "escrow_balance": balance,
        "escrow_short": max(refunds.ZERO, totals["refundable"] - balance),
        "batches": selectors.batches_of(institution),
    }, status=status)  # fmt: skip


@bureau_required(line="institutions")
def batch_result(request, pk):
    done = get_object_or_404(RefundBatch.objects.select_related("institution", "run_by"), pk=pk)
    lines = list(selectors.batch_lines(done))
    return render(request, "institutions/refunds/batch_result.html", {
        "batch": done, "lines": lines, "totals": selectors.batch_totals(lines),
    })  # fmt: skip


@bureau_required(line="institutions")
def batch_excel(request, pk):
    done = get_object_or_404(RefundBatch.objects.select_related("institution"), pk=pk)
    response = HttpResponse(
        selectors.batch_workbook(done),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="refund-batch-{done.pk}.xlsx"'
    response["Cache-Control"] = "private, no-store"
    return response
