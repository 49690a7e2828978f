"""Fees for parents (bills, paying, receipts), school staff (bills, waivers, bank transfers,
refunds, settlement) and the payment providers' callback."""

import datetime as dt
import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from afterschool import fees, payments, selectors
from afterschool.models import Bill, Payment, Settlement, Waiver
from portal import params
from portal.access import get_scoped_or_404
from portal.models import Child, SchoolPeriod, SchoolStaff
from portal.permissions import PARENT, kind_required, school_manager_required
from portal.views import messages_from

# --- parents --------------------------------------------------------------------------------


@kind_required(PARENT)
def bills(request):
    rows = selectors.parent_bills(request.user)
    return render(
        request,
        "afterschool/bills.html",
        {"bills": rows, "providers": payments.offered_providers()},
    )


@require_POST
@kind_required(PARENT)
def bill_pay(request, pk):
    bill = get_scoped_or_404(Bill.objects.all(), request.user, pk=pk)
    try:
        payment = payments.payment_start(
            user=request.user, bill_id=bill.pk, provider=request.POST.get("provider")
        )
    except ValidationError as exc:
        messages_from(request, exc)
        return redirect("afterschool:bills")
    return redirect(payments.begin_url(payment))


def _parent_payment(request, reference) -> Payment:
    return get_scoped_or_404(
        Payment.objects.select_related("bill__child", "bill__enrolment__offering", "bill__school"),
        request.user,
        reference=reference,
    )


@kind_required(PARENT)
def sandbox_pay(request, reference):
    """The sandbox gateway's hosted page: stands for the payment provider's own site. Where
    the sandbox is not offered (production) the page and its buttons do not exist (404)."""
    if payments.SANDBOX not in payments.offered():
        raise Http404
    payment = _parent_payment(request, reference)
    if payment.provider != payments.SANDBOX:
        raise Http404
    if request.method == "POST":
        try:
            payments.sandbox_complete(
                user=request.user,
                reference=payment.reference,
                pay=request.POST.get("action") == "pay",
            )
        except payments.ProviderUnavailable:
            raise Http404 from None
        return redirect("afterschool:receipt", reference=payment.reference)
    return render(request, "afterschool/sandbox_pay.html", {"payment": payment})


@kind_required(PARENT)
def receipt(request, reference):
    payment = _parent_payment(request, reference)
    return render(request, "afterschool/receipt.html", {"payment": payment, "bill": payment.bill})


@csrf_exempt
@require_POST
def notify(request, provider):
    """The providers' server-to-server callback: trusted only by its signature. A provider
    not offered here (the sandbox in production) has no callback: 404."""
    try:
        event = payments.notify(provider, request.body, request.headers.get("X-Signature", ""))
    except payments.ProviderUnavailable:
        raise Http404 from None
    except payments.InvalidNotification as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    return HttpResponse(f"ok {event.outcome}", content_type="text/plain; charset=utf-8")


# --- school staff ------------------------------------------------------------------------------


def _school_bill(request) -> int:
    """The bill a fee-desk form names: the school's own, else 404 (never a 403 that would
    tell another school's bill exists)."""
    return get_scoped_or_404(Bill.objects.all(), request.user, pk=int(request.POST["bill"])).pk


@school_manager_required
def fee_desk(request):
    """收费管理: issue a period's bills, confirm bank transfers, waivers, refunds."""
    action = request.POST.get("action") if request.method == "POST" else None
    try:
        if action == "issue":
            start = dt.date.fromisoformat(request.POST.get("period_start", ""))
            n = fees.bills_issue(actor=request.user, period_start=start)
            messages.success(request, f"已开具 {n} 张账单。")
        elif action == "confirm":
            event = payments.transfer_confirm(
                actor=request.user,
                bill_id=_school_bill(request),
                bank_reference=request.POST.get("bank_reference", ""),
                amount=request.POST.get("amount", ""),
            )
            if getattr(event, "replayed", False):
                messages.info(request, "这笔银行流水已确认过，未重复入账。")
            else:
                messages.success(request, "已确认到账。")
        elif action == "waiver":
            fees.waiver_set(
                actor=request.user,
                child_id=int(request.POST.get("child") or 0),
                term_id=int(request.POST.get("term") or 0),
                percent=int(request.POST.get("percent") or 0),
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, "已设置减免。")
        elif action == "refunds":
            n, total = fees.refunds_run(actor=request.user)
            messages.success(request, f"已按本校退费规则退费 {n} 笔，共 {total} 元。")
        elif action == "cancel":
            fees.bill_cancel(
                actor=request.user,
                bill_id=_school_bill(request),
                reason=request.POST.get("reason", ""),
            )
            messages.success(request, "账单已作废，已缴费用已退回。")
        if action:
            return redirect("afterschool:fees")
    except ValidationError as exc:
        messages_from(request, exc)
    except (ValueError, KeyError):
        messages.error(request, "请检查填写的日期、金额和编号。")
    school = request.user.school_staff.school
    # the reference a parent was given for a bank transfer, for staff to match the memo
    transfer = Payment.objects.filter(
        bill=OuterRef("pk"), provider=payments.TRANSFER, status=Payment.Status.PENDING
    ).order_by("created_at", "id")
    listing = (
        Bill.objects.filter(school=school)
        .select_related("child__school_class", "enrolment__offering")
        .annotate(transfer_reference=Subquery(transfer.values("reference")[:1]))
        .order_by("-period_start", "status", "child__name")[:300]
    )
    return render(
        request,
        "afterschool/fees.html",
        {
            "school": school,
            "bills": listing,
            "rule": fees.rule_for(school.pk),
            "waivers": Waiver.objects.filter(child__school=school).select_related("child", "term"),
            "children": Child.objects.filter(school=school).select_related("school_class"),
            "terms": SchoolPeriod.objects.filter(district_id=school.district_id, kind="term"),
            "post": request.POST if action else {},
        },
    )


def _term(request, school):
    terms = SchoolPeriod.objects.filter(district_id=school.district_id, kind="term")
    term_id = params.query_id(request, "term") or params.query_id(
        request, "term", data=request.POST
    )
    if term_id:
        return terms.filter(pk=term_id).first() or terms.none().first(), terms
    return terms.order_by("-start").first(), terms


@school_manager_required
def settlement(request):
    staff = request.user.school_staff
    term, terms = _term(request, staff.school)
    if term is None:
        raise Http404
    if request.method == "POST":
        # the principal posts the books; the 教导处 who reads this page is refused (403)
        try:
            fees.settlement_post(actor=request.user, term_id=term.pk)
            messages.success(request, "学期结算已入账。")
        except ValidationError as exc:
            messages_from(request, exc)
        return redirect(f"{request.path}?term={term.pk}")
    report = fees.settlement_report(staff.school, term)
    posted = Settlement.objects.filter(school=staff.school, term=term).first()
    if posted is not None:  # what the subsidy covers is judged on the books as posted
        report.settled_pool = posted.pool
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(
            settlement_xlsx(report, posted),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="settlement-{term.pk}.xlsx"'
        return response
    return render(
        request,
        "afterschool/settlement.html",
        {
            "report": report,
            "posted": posted,
            "term": term,
            "terms": terms,
            "may_post": staff.role == SchoolStaff.Role.PRINCIPAL,
        },
    )


def settlement_xlsx(report: fees.SettlementReport, posted: Settlement | None) -> bytes:
    """The settlement as a workbook: a summary that balances to the fee, then each bill, each
    provider, each teacher, and the teachers' subsidies by month (reported monthly). Every
    row goes through portal.exports: names are text, never formulas."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from portal.exports import xlsx_append

    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    title = f"{report.school.name} {report.term.name} 课后服务结算"
    xlsx_append(ws, [title + ("（已入账）" if posted else "（试算）")])
    ws["A1"].font = Font(bold=True, size=14)
    totals = posted or report
    fees_total = posted.fees if posted else report.fees
    rows = [
        ("实际消费的费用", fees_total),
        ("第三方机构结算", posted.providers if posted else report.provider_total),
        ("教师课时补助", posted.subsidies if posted else report.subsidy_total),
        ("计入绩效工资（负数为需财政奖补）", totals.pool),
    ]
    for label, value in rows:
        xlsx_append(ws, [label, float(value)])
    # the district's per-pupil subsidy (afterschool.funding): what came, what it leaves
    xlsx_append(ws, ["财政奖补已到账", float(report.received)])
    xlsx_append(ws, ["仍需财政奖补", float(report.needed)])
    xlsx_append(ws, ["财政奖补结余（未使用）", float(report.unspent)])
    xlsx_append(
        ws,
        [
            "核对：机构 + 补助 + 绩效 − 费用",
            float(rows[1][1] + rows[2][1] + rows[3][1] - fees_total),
        ],
    )
    bills_ws = wb.create_sheet("账单")
    xlsx_append(
        bills_ws,
        ["学生", "课程", "计费期间", "课次", "应收", "减免", "实收", "已缴", "已退", "消费"],
    )
    for bill, paid, refunded, consumed in report.bills:
        xlsx_append(
            bills_ws,
            [
                bill.child.name,
                bill.enrolment.offering.name,
                f"{bill.period_start}～{bill.period_end}",
                bill.lessons,
                float(bill.gross),
                float(bill.waived),
                float(bill.amount),
                float(paid),
                float(refunded),
                float(consumed),
            ],
        )
    prov = wb.create_sheet("第三方机构")
    xlsx_append(prov, ["机构", "实际交付课次（人·课时）", "结算金额"])
    for provider, row in report.providers.items():
        xlsx_append(prov, [provider.name, row["lessons"], float(row["amount"])])
    teach = wb.create_sheet("教师补助")
    xlsx_append(teach, ["教师", "课时", f"补助（{report.rate} 元/课时）"])
    for teacher, row in report.teachers.items():
        xlsx_append(teach, [teacher.name, row["lessons"], float(row["amount"])])
    month = wb.create_sheet("补助月报")
    xlsx_append(month, ["月份", "教师", "补助"])
    for key, per in report.monthly.items():
        for teacher, amount in per.items():
            xlsx_append(month, [key, teacher.name, float(amount)])
    for sheet in wb.worksheets:
        for cell in sheet[1 if sheet is not ws else 2]:
            cell.font = Font(bold=True)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
