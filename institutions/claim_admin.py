"""Admin of 消课 claims: read-only for the bureau (claims are written by the institution and
answered by the parent through institutions/claims.py; a dispute is handled on the escrow
purchase page, /institutions/staff/escrow/purchases/<id>/)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from institutions.claim_models import LessonClaim
from portal.admin import ReadOnlyAdmin

__all__ = ["LessonClaimAdmin"]


@admin.register(LessonClaim)
class LessonClaimAdmin(ReadOnlyAdmin):
    list_display = ["date", "start", "end", "lessons", "purchase", "institution", "status",
                    "claimed_at", "answered_at"]  # fmt: skip
    list_filter = ["status", "date"]
    list_select_related = ["purchase", "purchase__institution"]
    search_fields = ["purchase__institution__name", "=purchase__id"]
    date_hierarchy = "date"
    fields = ["purchase", "date", "start", "end", "lessons", "claimed_by", "claimed_at",
              "status", "answered_at", "answered_by", "dispute_reason"]  # fmt: skip
    raw_id_fields = ["purchase"]

    @admin.display(description=_("机构"))
    def institution(self, obj):
        return obj.purchase.institution.name
