"""Admin of letters to parents (致家长的一封信) (imported by governance/admin.py).

Read-only: a letter is sent once, to its audience, through governance/letters.py (the
pages at /letters/); what was sent and to whom stays as it was."""

from django.contrib import admin

from governance.letter_models import ParentLetter
from portal.admin import ReadOnlyAdmin

__all__: list[str] = []


@admin.register(ParentLetter)
class ParentLetterAdmin(ReadOnlyAdmin):
    list_display = ["title", "district", "sender_school", "sender", "sent_at"]
    list_filter = ["district"]
    list_select_related = ["district", "sender_school", "sender"]
    search_fields = ["title"]
