from django.contrib import admin, messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cases import services
from cases.forms import CaseAdminForm, ImportForm
from cases.models import THEME_LABELS, Case, SourceDocument
from cases.services import NotACollection, decode_upload, document_import


@admin.register(SourceDocument)
class SourceDocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "doc_number", "issuer", "date", "case_count", "imported_at"]
    list_filter = ["date"]
    search_fields = ["title", "doc_number", "issuer"]
    readonly_fields = ["fingerprint", "imported_at", "imported_by", "preface_spans"]
    change_list_template = "admin/cases/sourcedocument/change_list.html"

    @admin.display(description=_("案例数"))
    def case_count(self, obj):
        return obj.cases.count()

    # Every write goes through cases.services (audited, the same checks as the pages): a
    # document is added only by the import, which checks and splits it into its cases.

    def add_view(self, request, form_url="", extra_context=None):
        return redirect(reverse("admin:cases_sourcedocument_import"))

    def save_model(self, request, obj, form, change):
        services.document_admin_save(actor=request.user, document=obj, changed=form.changed_data)

    def delete_model(self, request, obj):
        services.documents_delete(actor=request.user, document_ids=[obj.pk])

    def delete_queryset(self, request, queryset):
        services.documents_delete(
            actor=request.user, document_ids=list(queryset.values_list("pk", flat=True))
        )

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="cases_sourcedocument_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        if not self.has_add_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                services.check_import_size(upload.size)  # before reading it into memory
                text = decode_upload(upload.read())
                result = document_import(text=text, filename=upload.name, actor=request.user)
            except NotACollection as exc:
                form.add_error("file", f"未导入：{exc}")
            else:
                doc = result.document
                if result.created:
                    messages.success(request, f"已导入《{doc.title}》，共 {result.cases} 个案例。")
                    if result.skipped:
                        messages.warning(
                            request,
                            f"{len(result.skipped)} 个案例已在案例库中（正文相同），已跳过："
                            + "、".join(f"“{t[:40]}”" for t in result.skipped[:20])
                            + ("等。" if len(result.skipped) > 20 else "。"),
                        )
                else:
                    messages.info(request, f"《{doc.title}》此前已导入，未做改动。")
                return redirect(reverse("admin:cases_sourcedocument_change", args=[doc.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": _("导入案例集"),
        }
        return render(request, "admin/cases/sourcedocument/import.html", context)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "status",
        "place_column",
        "theme_list",
        "source",
        "school",
        "published_on",
        "review_link",
    ]
    list_filter = ["status", "year", "source", "province"]
    search_fields = ["title", "unit", "district"]
    list_select_related = ["source", "school"]
    readonly_fields = [
        "source",
        "position",
        "start",
        "end",
        "raw",
        "school",
        "submitted_by",
        "status",
        "review_comment",
    ]
    exclude = ["search_title", "search_body", "search_length", "content_hash"]
    form = CaseAdminForm

    # Every write goes through cases.services: the search segmentation follows the text,
    # and each change is audited.

    def save_model(self, request, obj, form, change):
        services.case_admin_save(actor=request.user, case=obj, changed=form.changed_data)

    def delete_model(self, request, obj):
        services.cases_delete(actor=request.user, case_ids=[obj.pk])

    def delete_queryset(self, request, queryset):
        services.cases_delete(
            actor=request.user, case_ids=list(queryset.values_list("pk", flat=True))
        )

    @admin.display(description=_("地区"))
    def place_column(self, obj):
        return obj.place_display

    @admin.display(description=_("主题"))
    def theme_list(self, obj):
        return "、".join(str(THEME_LABELS.get(t, t)) for t in obj.themes)

    @admin.display(description=_("审核"))
    def review_link(self, obj):
        if obj.source_id is None and obj.status != Case.Status.PUBLISHED:
            return format_html('<a href="{}">审核</a>', reverse("cases:review", args=[obj.pk]))
        return ""
