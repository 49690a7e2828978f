"""Bureau staff pages for the register in Excel: the import template, the bulk import (all
rows checked first, nothing imported unless the whole file is clean) and the export."""

import io

from django import forms
from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from institutions import excel, services
from institutions.models import Institution
from portal.permissions import bureau_required

SHOWN_ERRORS = 300  # a file of the wrong kind can have thousands; the first ones say enough


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Excel 文件（.xlsx）",
        help_text=f"请使用下载的导入模板填写，每个文件最多 {excel.MAX_ROWS} 行、"
        f"不超过 {excel.MAX_FILE_BYTES // (1024 * 1024)} MB。",
        error_messages={
            "required": "请选择要上传的 Excel 文件。",
            "empty": "上传的文件是空的，请选择填写好的 Excel 文件。",
            "invalid": "没有收到文件，请重新选择后上传。",
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx," + excel.CONTENT_TYPE}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > excel.MAX_FILE_BYTES:
            mb = excel.MAX_FILE_BYTES // (1024 * 1024)
            raise forms.ValidationError(f"文件过大（上限 {mb} MB），请分批导入。")
        return upload


def _xlsx_response(data: bytes, filename: str) -> FileResponse:
    response = FileResponse(
        io.BytesIO(data), as_attachment=True, filename=filename, content_type=excel.CONTENT_TYPE
    )
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@bureau_required(line="institutions", perm="institutions.add_institution")
def import_view(request):
    posted = request.method == "POST"
    form = ImportForm(request.POST if posted else None, request.FILES if posted else None)
    errors = None
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        rows, errors = excel.parse(upload.read())
        if not errors:
            try:
                created = excel.import_rows(rows, request.user, filename=upload.name)
            except excel.ImportRejected as exc:
                errors = exc.errors
            else:
                messages.success(request, f"已导入 {len(created)} 家机构。")
                return redirect("institutions:import")
    context = {
        "form": form,
        "errors": errors[:SHOWN_ERRORS] if errors else errors,
        "error_count": len(errors or []),
        "error_rows": len({e.row for e in errors or [] if e.row}),
        "shown_limit": SHOWN_ERRORS,
        "max_rows": excel.MAX_ROWS,
    }
    return render(request, "institutions/import.html", context)


@never_cache
@bureau_required(line="institutions", perm="institutions.view_institution")
def template_xlsx(request):
    return _xlsx_response(excel.template_workbook(), "校外培训机构导入模板.xlsx")


@never_cache
@bureau_required(line="institutions", perm="institutions.view_institution")
def export_xlsx(request):
    queryset = Institution.objects.all()
    data = excel.export_workbook(queryset)
    services.register_exported(actor=request.user, count=queryset.count())
    today = timezone.localdate().strftime("%Y%m%d")
    return _xlsx_response(data, f"校外培训机构名单-{today}.xlsx")
