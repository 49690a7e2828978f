"""Staff pages of the fee escrow, mounted at /institutions/staff/escrow/ (namespace
"institutions", names "escrow_*"): the accounts and their warnings, one account with its
bank reconciliation, one purchase with the bureau's actions on it.

Who: bureau staff of the training-institutions line (portal.permissions.is_bureau with
line="institutions"); writing needs the model permission of what is written.
Everyone else gets 403 (anonymous: the login page). The doors stay thin: a bank statement
is parsed and validated here, whole, before the service imports it; every write is one
service call.
"""

import csv
import datetime as dt
import io
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from institutions import escrow
from institutions.escrow_models import (
    BankStatementLine,
    EscrowEntry,
    EscrowTransaction,
    Purchase,
)
from institutions.models import SupervisedAccount
from portal import ledger, params
from portal.permissions import bureau_required

CENT = Decimal("0.01")


# --- the CSV statement ------------------------------------------------------------------

STATEMENT_COLUMNS = {
    "date": ("日期", {"date", "日期", "交易日期"}),
    "amount": ("金额", {"amount", "金额", "交易金额"}),
    "reference": ("参考号", {"reference", "参考号", "业务参考号", "摘要"}),
    "counterparty": ("对方户名", {"counterparty", "对方户名", "对方账户名称"}),
}
STATEMENT_TEMPLATE = (
    "日期,金额,参考号,对方户名\n"
    "2026-03-01,3000.00,PAY-20260301-0001,张某某\n"
    "2026-03-20,-150.00,LEDGER-12,某某培训学校\n"
)
STATEMENT_MAX_BYTES = 2 * 1024 * 1024
STATEMENT_MAX_ROWS = 5000
AMOUNT_RE = re.compile(r"^[+-]?\d+(\.\d{1,2})?$")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d")


@dataclass(frozen=True)
class StatementRow:
    row_number: int
    date: dt.date
    amount: Decimal
    reference: str
    counterparty: str


def _decode(data: bytes) -> tuple[str, str]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ValidationError("无法识别文件编码，请另存为 UTF-8 或 GB18030（GBK）编码的 CSV 文件。")


def _parse_date(value: str):
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def statement_parse(data: bytes, *, today=None) -> tuple[list[StatementRow], str]:
    """Every row of a CSV statement, or ValidationError listing each bad row as
    "第N行“列”：…" (N: the line of the file, the header being line 1). Columns by header,
    in any order: 日期/date, 金额/amount (positive: into the account; negative: out),
    参考号/reference, 对方户名/counterparty. UTF-8 (with or without BOM) or GB18030."""
    today = today or timezone.localdate()
    if len(data) > STATEMENT_MAX_BYTES:
        raise ValidationError("文件过大（不超过 2MB），请按月份分开导入。")
    text, encoding = _decode(data)
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise ValidationError("文件是空的。请按模板填写：日期,金额,参考号,对方户名。")
    columns = {}
    for index, title in enumerate(header):
        for field, (_label, names) in STATEMENT_COLUMNS.items():
            if title.strip().lower() in names:
                columns[field] = index
    missing = [STATEMENT_COLUMNS[f][0] for f in ("date", "amount") if f not in columns]
    if missing:
        raise ValidationError(f"第1行（表头）缺少“{'”“'.join(missing)}”列，请使用模板。")
    rows, errors = [], []

    def cell(raw, field):
        index = columns.get(field)
        return raw[index].strip() if index is not None and index < len(raw) else ""

    for raw in reader:
        n = reader.line_num
        if not any(c.strip() for c in raw):
            continue
        if len(rows) + len(errors) >= STATEMENT_MAX_ROWS:
            raise ValidationError(f"一次最多导入 {STATEMENT_MAX_ROWS} 行，请分开导入。")
        row_errors = []
        value = cell(raw, "date")
        date = _parse_date(value)
        if date is None:
            row_errors.append(f"第{n}行“日期”：无法识别“{value}”，请写成 2026-03-01。")
        elif date > today:
            row_errors.append(f"第{n}行“日期”：{date} 晚于今天。")
        value = cell(raw, "amount")
        cleaned = value.replace(",", "").replace("¥", "").replace("￥", "").replace(" ", "")
        amount = None
        if not AMOUNT_RE.match(cleaned):
            row_errors.append(f"第{n}行“金额”：“{value}”不是金额（元，最多两位小数，转出写负数）。")
        else:
            amount = Decimal(cleaned).quantize(CENT)
            if amount == 0 or abs(amount) > ledger.MAX_AMOUNT:
                row_errors.append(f"第{n}行“金额”：金额不能为 0 或超过 100 亿元。")
        reference = cell(raw, "reference")
        if len(reference) > 100:
            row_errors.append(f"第{n}行“参考号”：不能超过 100 个字符。")
        counterparty = cell(raw, "counterparty")
        if len(counterparty) > 200:
            row_errors.append(f"第{n}行“对方户名”：不能超过 200 个字符。")
        if row_errors:
            errors.extend(row_errors)
            continue
        rows.append(StatementRow(n, date, amount, reference, counterparty))
    if errors:
        shown = errors[:50]
        if len(errors) > 50:
            shown.append(f"……共 {len(errors)} 处错误，仅列出前 50 处。")
        raise ValidationError(shown)
    if not rows:
        raise ValidationError("文件中没有流水行。")
    return rows, encoding


class StatementUploadForm(forms.Form):
    file = forms.FileField(
        label="银行流水（CSV）",
        help_text="表头：日期,金额,参考号,对方户名；转入为正、转出为负；UTF-8 或 GB18030 编码。",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > STATEMENT_MAX_BYTES:
            raise ValidationError("文件过大（不超过 2MB），请按月份分开导入。")
        self.rows, self.encoding = statement_parse(upload.read())
        return upload


class LineBookForm(forms.Form):
    memo = forms.CharField(label="流水性质", max_length=300)


class ReasonForm(forms.Form):
    reason = forms.CharField(label="事由", max_length=300, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)


# --- pages ------------------------------------------------------------------------------


@bureau_required(line="institutions")
def index(request):
    """Every active supervised account against what it must cover; red first."""
    accounts = (
        SupervisedAccount.objects.filter(active=True)
        .select_related("institution")
        .annotate(open_lines=Count("statement_lines", filter=~Q(statement_lines__match="matched")))
        .order_by("institution__name", "pk")
    )
    states = escrow.account_states(accounts)
    level = params.query_choice(request, "level", ("red", "yellow"), default="")
    if level:
        states = [s for s in states if s.level == level]
    order = {"red": 0, "yellow": 1, "": 2}
    states.sort(key=lambda s: order[s.level])
    return render(request, "institutions/escrow/index.html", {"states": states, "level": level})


def _account_page(request, account, *, upload_form=None, status=200):
    state = escrow.account_states([account])[0]
    recon = reconciliation(account) if account.kind == SupervisedAccount.Kind.ESCROW else None
    purchases = (
        Purchase.objects.filter(institution_id=account.institution_id)
        .select_related("course")
        .order_by("-created_at", "-id")[:100]
    )
    return render(
        request,
        "institutions/escrow/account.html",
        {
            "account": account,
            "state": state,
            "recon": recon,
            "purchases": purchases,
            "upload_form": upload_form or StatementUploadForm(),
            "can_import": request.user.has_perm("institutions.add_bankstatementline"),
            "can_book": request.user.has_perm("institutions.add_escrowtransaction"),
        },
        status=status,
    )


def _account(pk):
    return get_object_or_404(SupervisedAccount.objects.select_related("institution"), pk=pk)


@bureau_required(line="institutions")
def account(request, pk):
    return _account_page(request, _account(pk))


@bureau_required(line="institutions", perm="institutions.add_bankstatementline")
@require_POST
def statement_upload(request, pk):
    account = _account(pk)
    form = StatementUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            statement = escrow.statement_import(
                actor=request.user, account_id=account.pk, filename=form.cleaned_data["file"].name,
                rows=form.rows, encoding=form.encoding,
            )  # fmt: skip
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                f"已导入 {statement.lines_imported} 行流水"
                + (
                    f"，{statement.lines_skipped} 行此前已导入而跳过"
                    if statement.lines_skipped
                    else ""
                )
                + "，并已与记账核对。",
            )
            return redirect("institutions:escrow_account", pk=account.pk)
    return _account_page(request, account, upload_form=form, status=400)


@bureau_required(line="institutions", perm="institutions.add_bankstatementline")
@require_POST
def statement_rematch(request, pk):
    account = _account(pk)
    matched = escrow.statement_rematch(actor=request.user, account_id=account.pk)
    messages.success(request, f"重新核对完成，新匹配 {matched} 行。")
    return redirect("institutions:escrow_account", pk=account.pk)


@bureau_required(line="institutions", perm="institutions.add_escrowtransaction")
@require_POST
def line_book(request, pk):
    line = get_object_or_404(BankStatementLine, pk=pk)
    form = LineBookForm(request.POST)
    if not form.is_valid():
        messages.error(request, "补记银行流水须写明流水性质。")
    else:
        try:
            tx = escrow.bank_line_book(
                actor=request.user, line_id=line.pk, memo=form.cleaned_data["memo"]
            )
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, f"已补记为记账 {tx.reference}。")
    return redirect("institutions:escrow_account", pk=line.account_id)


@bureau_required(line="institutions")
def statement_template(request):
    # UTF-8 with BOM: Excel on Windows opens it with the Chinese intact
    response = HttpResponse(
        ("\ufeff" + STATEMENT_TEMPLATE).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="bank_statement_template.csv"'
    return response


@bureau_required(line="institutions")
def purchase(request, pk):
    purchase = get_object_or_404(Purchase.objects.select_related("institution", "course"), pk=pk)
    transactions = (
        EscrowTransaction.objects.filter(purchase=purchase)
        .select_related("reverses")
        .prefetch_related("entries")
        .order_by("created_at", "id")
    )
    return render(
        request,
        "institutions/escrow/purchase.html",
        {
            "purchase": purchase,
            "sums": escrow.purchase_sums(purchase),
            "due": escrow.release_due(purchase, timezone.localdate()),
            "transactions": transactions,
            "key": uuid.uuid4().hex,  # one per rendered form: a resubmitted form is a replay
            "can_act": request.user.has_perm("institutions.change_purchase"),
        },
    )


ACTIONS = {
    "dispute_open": lambda user, p, d: escrow.dispute_open(
        actor=user, purchase_id=p, reason=d["reason"]
    ),
    "dispute_close": lambda user, p, d: escrow.dispute_close(
        actor=user, purchase_id=p, resolution=d["reason"]
    ),
    "release": lambda user, p, d: escrow.escrow_release(
        actor=user, purchase_id=p, idempotency_key=d["idempotency_key"]
    ),
    "refund": lambda user, p, d: escrow.refund_unconsumed(
        actor=user, purchase_id=p, reason=d["reason"], idempotency_key=d["idempotency_key"]
    ),
    "refund_full": lambda user, p, d: escrow.refund_full(
        actor=user, purchase_id=p, reason=d["reason"], idempotency_key=d["idempotency_key"]
    ),
}
DONE = {
    "dispute_open": "已登记争议，该笔资金暂停释放。",
    "dispute_close": "争议已关闭，应释放的资金已释放。",
    "release": "已按释放规则处理。",
    "refund": "已退还未消课部分。",
    "refund_full": "已全额退费。",
}


@bureau_required(line="institutions", perm="institutions.change_purchase")
@require_POST
def purchase_action(request, pk, action):
    if action not in ACTIONS:
        raise Http404
    purchase = get_object_or_404(Purchase, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "事由不能超过 300 个字。")
    else:
        try:
            ACTIONS[action](request.user, purchase.pk, form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, DONE[action])
    return redirect("institutions:escrow_purchase", pk=purchase.pk)


# --- reads of the reconciliation page --------------------------------------------------


def reconciliation(account: SupervisedAccount) -> dict:
    """What does not match on either side: open bank lines, and ledger transactions of the
    escrow account with no bank line, posted up to the last statement date (later ones the
    bank cannot have shown yet)."""
    code = escrow.escrow_account_code(account.institution_id)
    lines = BankStatementLine.objects.filter(account=account)
    last = lines.order_by("-date").values_list("date", flat=True).first()
    open_lines = lines.exclude(match=BankStatementLine.Match.MATCHED).order_by("date", "id")
    unmatched_tx = []
    if last is not None:
        unmatched_tx = list(
            EscrowTransaction.objects.filter(
                institution_id=account.institution_id,
                bank_line__isnull=True,
                created_at__date__lte=last,
                entries__account=code,
            )
            .annotate(net=Sum("entries__amount"))
            .select_related("purchase")
            .order_by("created_at", "id")
        )
    return {
        "last_date": last,
        "open_lines": list(open_lines),
        "unmatched_transactions": unmatched_tx,
        "matched_count": lines.filter(match=BankStatementLine.Match.MATCHED).count(),
        "bank_total": lines.aggregate(s=Sum("amount"))["s"] or Decimal("0.00"),
        "ledger_balance": ledger.balance(EscrowEntry, code),
    }
