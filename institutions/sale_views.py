"""Pages of the sales (institutions/sale_urls.py). Doors only: parse, call one service or
selector, render or redirect. Institution staff: institution_required (管理员, 教务/前台
to sell or cancel; any of its staff to read). Parents: kind_required(PARENT), their own
offers only (another's is a 404)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from afterschool import payments
from institutions import sale_selectors as selectors
from institutions import sales
from institutions.escrow_models import Purchase
from institutions.sale_forms import AcceptForm, CancelForm, SaleForm
from portal import params
from portal.access import PARENT
from portal.permissions import institution_required, kind_required

Status = Purchase.Status


def _add_errors(form, exc: ValidationError):
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# --- the institution's side -------------------------------------------------------------


@institution_required()
def sale_list(request):
    status = params.query_choice(request, "status", tuple(Status.values), default="")
    sales_ = selectors.institution_sales(request.user, status)[:200]
    return render(
        request,
        "institutions/sales/list.html",
        {"sales": sales_, "status": status, "statuses": Status.choices},
    )


@institution_required(*sales.SELLERS)
def sale_new(request):
    courses = selectors.sellable_courses(request.user)
    form = SaleForm(request.POST or None, courses=courses)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        course = selectors.course_of(request.user, data["course"])  # another's: 404
        try:
            purchase = sales.sale_offer(
                actor=request.user, course_id=course.pk, parent_name=data["parent_name"],
                parent_phone=data["parent_phone"], lessons=data["lessons"],
                amount=data["amount"], starts_on=data["starts_on"], ends_on=data["ends_on"],
            )  # fmt: skip
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "已登记销售，等待家长在平台上确认合同并付款。")
            return redirect("sales:detail", pk=purchase.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "institutions/sales/new.html", {"form": form}, status=status)


@institution_required()
def sale_detail(request, pk):
    purchase = selectors.sale_detail(request.user, pk)
    return render(
        request,
        "institutions/sales/detail.html",
        {
            "purchase": purchase,
            "contract": getattr(purchase, "contract", None),
            "notices": selectors.sale_notices(purchase),
            "can_cancel": purchase.status in (Status.OFFERED, Status.ACCEPTED)
            and request.user.institution_staff.role in sales.SELLERS,
            "cancel_form": CancelForm(),
        },
    )


@institution_required(*sales.SELLERS)
@require_POST
def sale_cancel(request, pk):
    purchase = selectors.sale_detail(request.user, pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "撤销原因不能超过 300 个字。")
    else:
        try:
            sales.sale_cancel(
                actor=request.user, purchase_id=purchase.pk, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, "已撤销该笔销售。")
    return redirect("sales:detail", pk=purchase.pk)


# --- the parent's side ------------------------------------------------------------------


@kind_required(PARENT)
def parent_list(request):
    return render(
        request, "institutions/sales/mine.html", {"sales": selectors.parent_sales(request.user)}
    )


def _offer_page(request, purchase, form, status=200):
    return render(
        request,
        "institutions/sales/offer.html",
        {"purchase": purchase, "contract": purchase.contract, "form": form},
        status=status,
    )


@kind_required(PARENT)
def offer(request, pk):
    purchase = selectors.parent_offer(request.user, pk)
    if request.method != "POST":
        return _offer_page(request, purchase, AcceptForm())
    form = AcceptForm(request.POST)
    action = request.POST.get("action", "accept")
    try:
        if action == "decline":
            sales.offer_decline(user=request.user, purchase_id=purchase.pk)
            messages.success(request, "您已拒绝该笔购买，机构不会向您收费。")
            return redirect("sales:offer", pk=purchase.pk)
        if form.is_valid():
            sales.offer_accept(
                user=request.user, purchase_id=purchase.pk,
                text_sha256=form.cleaned_data["text_sha256"],
            )  # fmt: skip
            messages.success(request, "已确认合同，请付款。")
            return redirect("sales:pay", pk=purchase.pk)
    except ValidationError as exc:
        _add_errors(form, exc)
    purchase = selectors.parent_offer(request.user, pk)  # its state may have moved (lapsed)
    return _offer_page(request, purchase, form, status=400)


@kind_required(PARENT)
def pay(request, pk):
    purchase = selectors.parent_offer(request.user, pk)
    account = getattr(purchase.institution, "supervised_account", None)
    return render(
        request,
        "institutions/sales/pay.html",
        {
            "purchase": purchase,
            "account": account,
            "providers": payments.offered(),
            "notices": selectors.sale_notices(purchase),
        },
    )


@kind_required(PARENT)
def sandbox(request, pk):
    """The sandbox gateway's hosted page for a sale (never in production: 404)."""
    if payments.SANDBOX not in payments.offered():
        raise Http404
    purchase = selectors.parent_offer(request.user, pk)
    if request.method == "POST":
        try:
            notice = sales.sandbox_complete(
                user=request.user, purchase_id=purchase.pk,
                pay=request.POST.get("action") == "pay",
            )  # fmt: skip
        except payments.ProviderUnavailable:
            raise Http404 from None
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            if notice.outcome == "paid":
                messages.success(request, "付款成功，资金已进入监管账户。")
            else:
                messages.error(request, f"未完成付款：{notice.get_outcome_display()}。")
        return redirect("sales:pay", pk=purchase.pk)
    return render(request, "institutions/sales/sandbox.html", {"purchase": purchase})


@csrf_exempt
@require_POST
def notify(request, provider):
    """The provider's server-to-server callback for a sale: trusted only by its signature;
    a provider not offered here (the sandbox in production) has none: 404."""
    try:
        notice = sales.sale_notify(provider, request.body, request.headers.get("X-Signature", ""))
    except payments.ProviderUnavailable:
        raise Http404 from None
    except payments.InvalidNotification as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    return HttpResponse(f"ok {notice.outcome}", content_type="text/plain; charset=utf-8")
