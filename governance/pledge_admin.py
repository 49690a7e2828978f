"""Admin of commitment letters (承诺书) (imported by governance/admin.py).

Read-only: templates, campaigns and signatures change only through governance/pledges.py,
called from the pages at /pledges/ (a signature is the teacher's own act; a template's
issued text is frozen)."""

from django.contrib import admin

from governance.pledge_models import PledgeCampaign, PledgeLetter, PledgeTemplate
from portal.admin import ReadOnlyAdmin

__all__: list[str] = []


@admin.register(PledgeTemplate)
class PledgeTemplateAdmin(ReadOnlyAdmin):
    list_display = ["title", "version", "frozen_at", "created_at"]
    search_fields = ["title"]


@admin.register(PledgeCampaign)
class PledgeCampaignAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "year", "deadline", "created_by", "created_at"]
    list_filter = ["year"]
    list_select_related = ["template", "created_by"]


@admin.register(PledgeLetter)
class PledgeLetterAdmin(ReadOnlyAdmin):
    list_display = ["staff", "school", "campaign", "signed_at", "signed_version"]
    list_filter = ["campaign__year", "school__district"]
    list_select_related = ["staff", "school", "campaign__template"]
    search_fields = ["staff__name", "school__name"]
