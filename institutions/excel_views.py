"""Bureau staff pages for the register in Excel: the import template, the bulk import (all
rows checked first, nothing imported unless the whole file is clean) and the export."""

import io
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from institutions import excel
from institutions.models import Institution
from portal.audit import audit_record

SHOWN_ERRORS = 300  # a file of the wrong kind can have thousands; the first ones say enough


def _staff_with(perm):
    """Bureau staff holding ``perm``; others get 403, anonymous users the login page."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not (user.is_staff and user.has_perm(perm)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


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
@_staff_with("institutions.add_institution")
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
@_staff_with("institutions.view_institution")
def template_xlsx(request):
    return _xlsx_response(excel.template_workbook(), "校外培训机构导入模板.xlsx")


@never_cache
@_staff_with("institutions.view_institution")
def export_xlsx(request):
    queryset = Institution.objects.all()
    data = excel.export_workbook(queryset)
    with transaction.atomic():
        audit_record(
            actor=request.user,
            action="institutions.register.exported",
            new={"count": queryset.count()},
        )
    today = timezone.localdate().strftime("%Y%m%d")
    return _xlsx_response(data, f"校外培训机构名单-{today}.xlsx")
