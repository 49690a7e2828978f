"""Bulk import of the institution register from an Excel file in a fixed template, and the
export of the register to Excel (openpyxl).

The import is all or nothing: ``parse`` checks every row of the file first and reports each
bad cell as (row as Excel shows it, column header, Chinese message); ``import_rows`` then
registers the clean rows through ``services.institution_register`` inside one transaction,
so that a row the register still refuses rolls back every row of the file.
"""

import datetime as dt
import io
import re
import zipfile
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from institutions import colour, services, uscc
from institutions.models import NON_SUBJECT_TYPE, SUBJECT_TYPE, Institution
from portal.audit import audit_record
from portal.exports import xlsx_cell  # text as text, never a formula (one helper for all exports)
from portal.models import District

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATA_SHEET = "机构名单"
HELP_SHEET = "填写说明"
OPTIONS_SHEET = "选项"

MAX_ROWS = 1000  # data rows in one file (about 12 s of registering at the limit)
MAX_FILE_BYTES = 5 * 1024 * 1024  # the upload as sent
MAX_UNPACKED_BYTES = 50 * 1024 * 1024  # the xlsx is a zip: refuse a zip bomb before openpyxl
MAX_SCALE = 2_147_483_647  # PositiveIntegerField

# The template's columns, in order: (model field, header, required, width, hint).
COLUMNS = [
    ("name", "机构名称", True, 28, "与营业执照或登记证书上的名称一致。"),
    ("credit_code", "统一社会信用代码", True, 22,
     "18位，数字和大写字母（不使用 I、O、Z、S、V），最后一位为校验位。请按文本填写。"),
    ("category", "类别", True, 10, "从下拉列表选择：学科类 或 非学科类。"),
    ("subjects", "培训科目", True, 24,
     "多个科目用顿号“、”分隔。学科类可填：" + "、".join(SUBJECT_TYPE)
     + "；非学科类可填：" + "、".join(NON_SUBJECT_TYPE) + "。"),
    ("mode", "形式", True, 8, "从下拉列表选择：线下 或 线上。"),
    ("nature", "法人性质", True, 10, "从下拉列表选择：营利性 或 非营利性。"),
    ("address", "地址", False, 36, "选填。"),
    ("district", "所在区", True, 12, "从下拉列表选择本市的区。"),
    ("scale", "在训学员规模", False, 12, "选填，整数（人），不填按0计。"),
    ("licence_number", "办学许可证号", False, 20,
     "选填；没有办学许可证的机构留空（将列入黑名单）。"),
    ("licence_issued", "发证日期", False, 12, "选填，日期，如 2024-09-01。"),
    ("licence_expires", "有效期至", False, 12,
     "填写了办学许可证号时必填，日期，须晚于发证日期。"),
]  # fmt: skip
HEADERS = [c[1] for c in COLUMNS]
HEADER_OF = {c[0]: c[1] for c in COLUMNS}
EXPORT_EXTRA = ["名单颜色", "治理状态"]
EXPORT_HEADERS = HEADERS + EXPORT_EXTRA
DATE_FORMAT = "yyyy-mm-dd"

# Fields of a ValidationError from the register that are not columns of their own.
_FIELD_COLUMN = {**HEADER_OF, "credit_code_override_reason": HEADER_OF["credit_code"]}

_SUBJECT_SPLIT = re.compile(r"[、,，;；/／\s]+")
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


class RowError(NamedTuple):
    row: int | None  # as Excel shows it (the header is row 1); None: the file as a whole
    column: str  # the column's header; "" when the problem is not one cell's
    message: str


class ParsedRow(NamedTuple):
    row: int
    data: dict  # keyword arguments for services.institution_register


class ImportRejected(Exception):
    """Nothing was imported; ``errors`` says why, row by row."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


def _labels(choices) -> dict[str, str]:
    """value -> Chinese label, whatever the language of the request (the file format is fixed)."""
    with translation.override("zh-hans"):
        return {value: str(label) for value, label in choices}


def choice_labels() -> dict[str, dict[str, str]]:
    return {
        "category": _labels(Institution.Category.choices),
        "mode": _labels(Institution.Mode.choices),
        "nature": _labels(Institution.Nature.choices),
        "governance": _labels(Institution.Governance.choices),
    }


# --- the template ------------------------------------------------------------------------


def _style_header(ws, headers, required=()):
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="F6D5D3")
    for index, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=index, value=header)
        cell.font = bold
        if header in required:
            cell.fill = fill
    ws.freeze_panes = "A2"


def template_workbook() -> bytes:
    """The import template: the data sheet with its header row, input hints and drop-down
    lists, a sheet of instructions, and a hidden sheet holding the lists' options."""
    labels = choice_labels()
    districts = list(District.objects.order_by("code").values_list("name", flat=True))
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    required = {c[1] for c in COLUMNS if c[2]}
    _style_header(ws, HEADERS, required)
    last = MAX_ROWS + 1
    for index, (field, _header, _req, width, hint) in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = width
        ws.cell(row=1, column=index).comment = Comment(hint, "教育局")
        # a column style: what is typed in these columns becomes a date / stays text
        if field in ("licence_issued", "licence_expires"):
            ws.column_dimensions[letter].number_format = DATE_FORMAT
        if field in ("credit_code", "licence_number"):
            ws.column_dimensions[letter].number_format = "@"

    options = wb.create_sheet(OPTIONS_SHEET)
    lists = {
        "category": list(labels["category"].values()),
        "mode": list(labels["mode"].values()),
        "nature": list(labels["nature"].values()),
        "district": districts or [""],
    }
    for col, (field, values) in enumerate(lists.items(), start=1):
        options.cell(row=1, column=col, value=HEADER_OF[field])
        for row, value in enumerate(values, start=2):
            xlsx_cell(options.cell(row=row, column=col), value)
        letter = get_column_letter(col)
        target = get_column_letter(HEADERS.index(HEADER_OF[field]) + 1)
        dv = DataValidation(
            type="list",
            formula1=f"'{OPTIONS_SHEET}'!${letter}$2:${letter}${len(values) + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="请从列表中选择",
            error=f"“{HEADER_OF[field]}”请从下拉列表中选择。",
            showInputMessage=True,
            promptTitle=HEADER_OF[field],
            prompt=COLUMNS[HEADERS.index(HEADER_OF[field])][4][:250],
        )
        dv.add(f"{target}2:{target}{last}")
        ws.add_data_validation(dv)
    options.sheet_state = "hidden"

    def column_of(field):
        return get_column_letter(HEADERS.index(HEADER_OF[field]) + 1)

    hints = [
        ("credit_code", DataValidation(type="textLength", operator="equal", formula1="18")),
        ("subjects", DataValidation()),
        ("scale", DataValidation(type="whole", operator="between", formula1="0",
                                 formula2=str(MAX_SCALE))),
        ("licence_issued", DataValidation()),
        ("licence_expires", DataValidation()),
    ]  # fmt: skip
    for field, dv in hints:
        dv.allow_blank = True
        dv.showInputMessage = True
        dv.promptTitle = HEADER_OF[field]
        dv.prompt = COLUMNS[HEADERS.index(HEADER_OF[field])][4][:250]
        if dv.type:
            dv.showErrorMessage = True
            dv.errorTitle = "格式不正确"
            dv.error = dv.prompt
        dv.add(f"{column_of(field)}2:{column_of(field)}{last}")
        ws.add_data_validation(dv)

    help_ws = wb.create_sheet(HELP_SHEET)
    help_ws.column_dimensions["A"].width = 18
    help_ws.column_dimensions["B"].width = 10
    help_ws.column_dimensions["C"].width = 80
    notes = [
        "校外培训机构批量导入模板",
        f"1. 在“{DATA_SHEET}”工作表中从第2行起每行填写一家机构，"
        "不要修改、删除或移动第1行的列标题。",
        "2. 上传后系统先检查全部行；只要有一处问题，就不会导入任何数据，"
        "页面会列出每一处问题所在的行、列和原因。改正后请重新上传整个文件。",
        "3. 统一社会信用代码已登记的机构不能重复导入；同一文件中也不能出现重复的代码。",
        "4. 校验位不正确的历史代码不能批量导入，请在机构登记页面逐一办理并说明理由。",
        f"5. 每个文件最多 {MAX_ROWS} 行数据。",
        "",
    ]
    lines = [(note, "", "") for note in notes]
    lines.append(("列", "是否必填", "填写要求"))
    lines += [(header, "必填" if req else "选填", hint) for _f, header, req, _w, hint in COLUMNS]
    for r, values in enumerate(lines, start=1):
        for c, value in enumerate(values, start=1):
            cell = help_ws.cell(row=r, column=c)
            xlsx_cell(cell, value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    help_ws["A1"].font = Font(bold=True, size=14)
    for c in range(1, 4):
        help_ws.cell(row=8, column=c).font = Font(bold=True)

    wb.active = 0
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- reading a file ----------------------------------------------------------------------


def _file_error(message: str) -> tuple[list, list[RowError]]:
    return [], [RowError(None, "", message)]


def _open(file_bytes: bytes):
    """(workbook, None) or (None, why the bytes are not an xlsx we will read)."""
    if not file_bytes:
        return None, "上传的文件是空的，请选择填写好的 Excel 文件。"
    if len(file_bytes) > MAX_FILE_BYTES:
        return None, f"文件过大（上限 {MAX_FILE_BYTES // (1024 * 1024)} MB），请分批导入。"
    if file_bytes[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return None, "这是旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 格式后再上传。"
    not_xlsx = "上传的文件不是 Excel（.xlsx）文件，请下载导入模板，填写后上传。"
    try:
        with zipfile.ZipFile(io.BytesIO(file_bytes)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                return None, "文件内容过大，请分批导入。"
    except (zipfile.BadZipFile, ValueError, OSError):
        return None, not_xlsx
    try:
        return load_workbook(io.BytesIO(file_bytes), read_only=True, data_only=True), None
    except Exception:  # openpyxl raises many kinds for a zip that is not a workbook
        return None, not_xlsx


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        match = _DATE_TEXT.match(value.strip())
        if match:
            try:
                return dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                raise ValueError(f"日期“{value.strip()}”不存在。") from None
    raise ValueError(f"“{_text(value)}”不是日期，请填写如 2024-09-01 的日期或使用 Excel 日期格式。")


def _integer(value) -> int:
    number = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\d+", value.strip()):
        number = int(value.strip())
    if number is None:
        raise ValueError(f"“{_text(value)}”不是整数，请填写人数，如 120。")
    if number < 0:
        raise ValueError("不能为负数。")
    if number > MAX_SCALE:
        raise ValueError("数值过大。")
    return number


def _check_header(header_row) -> list[RowError]:
    found = [_text(v) if not _blank(v) else "" for v in header_row]
    if not any(found):
        return [RowError(1, "", "第1行没有列标题。请使用下载的导入模板，不要删除第1行的列标题。")]
    errors = []
    for index, expected in enumerate(HEADERS):
        actual = found[index] if index < len(found) else ""
        if actual != expected:
            letter = get_column_letter(index + 1)
            what = f"“{actual}”" if actual else "空白"
            errors.append(
                RowError(1, expected, f"第1行{letter}列的列标题应为“{expected}”，实际为{what}。")
            )
    for index in range(len(HEADERS), len(found)):
        if found[index] and found[index] not in EXPORT_EXTRA:
            letter = get_column_letter(index + 1)
            message = f"第1行{letter}列“{found[index]}”不是模板中的列。"
            errors.append(RowError(1, found[index], message))
    if errors:
        message = "列标题与导入模板不一致，请下载最新的导入模板，把数据粘贴到模板中再上传。"
        errors.append(RowError(1, "", message))
    return errors


def _length_problem(field: str, value: str) -> str | None:
    limit = Institution._meta.get_field(field).max_length
    if len(value) > limit:
        return f"不能超过{limit}个字，这里有{len(value)}个字。"
    return None


def _parse_row(number: int, cells, lookups) -> tuple[dict, list[RowError]]:
    """One data row: the register's keyword arguments, and what is wrong with its cells."""
    values = dict(zip([c[0] for c in COLUMNS], cells, strict=True))
    errors = []
    data = {}

    def bad(field, message):
        errors.append(RowError(number, HEADER_OF[field], message))

    for field, header, required, _w, _h in COLUMNS:
        if required and _blank(values[field]):
            bad(field, f"“{header}”是必填项，不能为空。")

    for field in ("name", "address", "licence_number"):
        if not _blank(values[field]):
            text = _text(values[field])
            problem = _length_problem(field, text)
            if problem:
                bad(field, problem)
            data[field] = text
        else:
            data[field] = ""

    code = values["credit_code"]
    if not _blank(code):
        if isinstance(code, int | float) and not isinstance(code, bool):
            bad("credit_code", "统一社会信用代码被 Excel 当成了数字（长数字会丢失末几位），"
                               "请把该列设为文本格式后重新填写。")  # fmt: skip
        else:
            code = _text(code).upper()
            problem = uscc.problem(code)
            if problem:
                bad("credit_code", problem)
            data["credit_code"] = code

    category = None
    for field, mapping in (("category", lookups["category"]), ("mode", lookups["mode"]),
                           ("nature", lookups["nature"])):  # fmt: skip
        if _blank(values[field]):
            continue
        text = _text(values[field])
        if text in mapping:
            data[field] = mapping[text]
            if field == "category":
                category = mapping[text]
        else:
            allowed = "”或“".join(mapping)
            bad(field, f"“{text}”不是可选的值，应为“{allowed}”。")

    if not _blank(values["subjects"]):
        subjects, unknown = [], []
        for name in _SUBJECT_SPLIT.split(_text(values["subjects"])):
            if not name:
                continue
            if name not in SUBJECT_TYPE and name not in NON_SUBJECT_TYPE:
                unknown.append(name)
            elif name not in subjects:
                subjects.append(name)
        if unknown:
            bad("subjects", f"“{'、'.join(unknown)}”不是规定的培训科目。可填："
                            f"{'、'.join(SUBJECT_TYPE + NON_SUBJECT_TYPE)}。")  # fmt: skip
        elif category == Institution.Category.SUBJECT:
            wrong = [s for s in subjects if s not in SUBJECT_TYPE]
            if wrong:
                bad("subjects", f"学科类机构的培训科目只能是学科类科目，"
                                f"“{'、'.join(wrong)}”属于非学科类。")  # fmt: skip
        elif category == Institution.Category.NON_SUBJECT:
            wrong = [s for s in subjects if s not in NON_SUBJECT_TYPE]
            if wrong:
                bad("subjects", f"非学科类机构不能培训学科类科目“{'、'.join(wrong)}”。"
                                f"非学科类可填：{'、'.join(NON_SUBJECT_TYPE)}。")  # fmt: skip
        if not subjects and not unknown:
            bad("subjects", "“培训科目”是必填项，不能为空。")
        data["subjects"] = subjects

    if not _blank(values["district"]):
        name = _text(values["district"])
        district = lookups["districts"].get(name)
        if district is None:
            bad("district", f"找不到名为“{name}”的区，请从下拉列表中选择。")
        data["district"] = district

    data["scale"] = 0
    if not _blank(values["scale"]):
        try:
            data["scale"] = _integer(values["scale"])
        except ValueError as exc:
            bad("scale", str(exc))

    dates = {}
    for field in ("licence_issued", "licence_expires"):
        data[field] = None
        if _blank(values[field]):
            continue
        try:
            dates[field] = data[field] = _date(values[field])
        except ValueError as exc:
            bad(field, str(exc))
    issued, expires = dates.get("licence_issued"), dates.get("licence_expires")
    if issued and issued > lookups["today"]:
        bad("licence_issued", f"发证日期 {issued} 晚于今天。")
    if issued and expires and expires <= issued:
        bad("licence_expires", f"有效期至（{expires}）应晚于发证日期（{issued}）。")
    if data["licence_number"]:
        if _blank(values["licence_expires"]):
            bad("licence_expires", "填写了办学许可证号时，必须填写有效期至。")
    elif not _blank(values["licence_issued"]) or not _blank(values["licence_expires"]):
        bad("licence_number", "填写了发证日期或有效期，但没有填写办学许可证号。")
    return data, errors


def parse(file_bytes: bytes) -> tuple[list[ParsedRow], list[RowError]]:
    """Every row of the file checked: (rows ready to register, errors). The rows are only
    worth importing when the errors are empty."""
    workbook, problem = _open(file_bytes)
    if problem:
        return _file_error(problem)
    try:
        ws = workbook[DATA_SHEET] if DATA_SHEET in workbook.sheetnames else workbook.worksheets[0]
        width = len(HEADERS)
        lines = ws.iter_rows(values_only=True)
        header = next(lines, None)
        if header is None:
            return _file_error("文件是空的：没有列标题，也没有数据。请使用下载的导入模板。")
        errors = _check_header(header)
        if errors:
            return [], errors
        labels = choice_labels()
        lookups = {
            "category": {v: k for k, v in labels["category"].items()},
            "mode": {v: k for k, v in labels["mode"].items()},
            "nature": {v: k for k, v in labels["nature"].items()},
            "districts": {d.name: d for d in District.objects.all()},
            "today": timezone.localdate(),
        }
        rows: list[ParsedRow] = []
        count = 0
        for number, line in enumerate(lines, start=2):
            cells = (tuple(line) + (None,) * width)[:width]
            if all(_blank(v) for v in cells):
                continue
            count += 1
            if count > MAX_ROWS:
                return _file_error(f"文件超过 {MAX_ROWS} 行数据，请分批导入。")
            data, row_errors = _parse_row(number, cells, lookups)
            errors.extend(row_errors)
            rows.append(ParsedRow(number, data))
    finally:
        workbook.close()
    if not rows:
        return _file_error("文件中没有机构数据：请从第2行起每行填写一家机构。")

    code_column = HEADER_OF["credit_code"]
    first_row = {}
    for row in rows:
        code = row.data.get("credit_code")
        if not code:
            continue
        if code in first_row:
            message = f"统一社会信用代码 {code} 与第{first_row[code]}行重复。"
            errors.append(RowError(row.row, code_column, message))
        else:
            first_row[code] = row.row
    existing = dict(
        Institution.objects.filter(credit_code__in=list(first_row)).values_list(
            "credit_code", "name"
        )
    )
    for row in rows:
        code = row.data.get("credit_code")
        if code in existing:
            message = f"统一社会信用代码 {code} 已登记（{existing[code]}），不能重复导入。"
            errors.append(RowError(row.row, code_column, message))
    order = {h: i for i, h in enumerate(HEADERS)}
    errors.sort(key=lambda e: (e.row or 0, order.get(e.column, len(HEADERS))))
    return (rows if not errors else []), errors


# --- importing ---------------------------------------------------------------------------


def _register_errors(number: int, exc: ValidationError) -> list[RowError]:
    if hasattr(exc, "error_dict"):
        return [
            RowError(number, _FIELD_COLUMN.get(field, ""), message)
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [RowError(number, "", message) for message in exc.messages]


def import_rows(rows: list[ParsedRow], actor, *, filename: str = "") -> list[Institution]:
    """Register every row, all in one transaction: if the register refuses any row, nothing
    is imported and ImportRejected lists the refused rows."""
    errors: list[RowError] = []
    created: list[Institution] = []
    with transaction.atomic():
        for row in rows:
            try:
                with transaction.atomic():
                    created.append(services.institution_register(actor=actor, **row.data))
            except ValidationError as exc:
                errors.extend(_register_errors(row.row, exc))
            except IntegrityError:  # the same code registered meanwhile by someone else
                message = "保存时发现该统一社会信用代码已登记，请核对后重新上传。"
                errors.append(RowError(row.row, HEADER_OF["credit_code"], message))
        if errors:
            raise ImportRejected(errors)
        audit_record(
            actor=actor,
            action="institutions.institution.imported",
            new={"file": filename[:200], "count": len(created), "ids": [i.pk for i in created]},
        )
    return created


# --- the export --------------------------------------------------------------------------


def export_workbook(queryset) -> bytes:
    """The register as an Excel file in the template's columns, plus the list colour and
    the governance status."""
    labels = choice_labels()
    institutions = (
        queryset.select_related("district")
        .annotate(colour=colour.colour_expression())
        .order_by("name", "id")
    )
    wb = Workbook(write_only=False)
    ws = wb.active
    ws.title = DATA_SHEET
    _style_header(ws, EXPORT_HEADERS)
    widths = [c[3] for c in COLUMNS] + [10, 16]
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    for r, inst in enumerate(institutions.iterator(chunk_size=500), start=2):
        values = [
            inst.name,
            inst.credit_code,
            labels["category"].get(inst.category, inst.category),
            "、".join(inst.subjects),
            labels["mode"].get(inst.mode, inst.mode),
            labels["nature"].get(inst.nature, inst.nature),
            inst.address,
            inst.district.name,
            inst.scale,
            inst.licence_number,
            inst.licence_issued,
            inst.licence_expires,
            str(colour.LABELS.get(inst.colour, inst.colour)),
            labels["governance"].get(inst.governance, inst.governance),
        ]
        for c, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=c)
            xlsx_cell(cell, value)
            if isinstance(value, dt.date):
                cell.number_format = DATE_FORMAT
    ws.auto_filter.ref = f"A1:{get_column_letter(len(EXPORT_HEADERS))}{max(ws.max_row, 1)}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
