"""Admin of the sales (imported by institutions/admin.py for its registrations).

The 示范文本 is edited here by 校外培训 staff: every save, of a new one or of an existing
version, publishes a NEW version through sales.contract_template_publish (audited); a
version once published is never changed, so the contracts issued under it stay as they
were. Contracts and payment notices are read-only."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect

from institutions import sales
from institutions.sale_models import ContractTemplate, SaleContract, SaleNotice
from portal.admin import ReadOnlyAdmin, row_number

__all__: list[str] = []


@admin.register(ContractTemplate)
class ContractTemplateAdmin(admin.ModelAdmin):
    list_display = ["version", "title", "note", "created_by", "created_at"]
    fields = ["title", "body", "note"]
    readonly_fields = ["version", "created_by", "created_at"]
    search_fields = ["title", "body"]

    def has_delete_permission(self, request, obj=None):
        return False  # issued contracts point at their version

    def has_change_permission(self, request, obj=None):
        # "change" publishes a new version (add permission); the row itself never changes
        return self.has_add_permission(request)

    def save_model(self, request, obj, form, change):
        obj_new = sales.contract_template_publish(
            actor=request.user,
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
            note=form.cleaned_data.get("note", ""),
        )
        obj.pk, obj.version = obj_new.pk, obj_new.version

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            self.message_user(request, "；".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.path)

    def response_change(self, request, obj):
        self.message_user(request, f"已发布示范文本第{obj.version}版，原版本保留不变。")
        return HttpResponseRedirect("../../")

    def save_related(self, request, form, formsets, change):
        pass  # no relations; and the saved row is the new version, not form.instance


@admin.register(SaleContract)
class SaleContractAdmin(ReadOnlyAdmin):
    list_display = [row_number, "purchase", "template", "accepted_at", "created_at"]
    list_select_related = ["purchase", "template"]
    exclude = ["accepted_by"]
    date_hierarchy = "created_at"


@admin.register(SaleNotice)
class SaleNoticeAdmin(ReadOnlyAdmin):
    list_display = [row_number, "provider", "event_id", "purchase", "amount", "outcome",
                    "created_at"]  # fmt: skip
    list_filter = ["provider", "outcome"]
    search_fields = ["event_id", "purchase__idempotency_key"]
    list_select_related = ["purchase"]
