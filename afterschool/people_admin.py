"""The people register in the admin: read-only (imported by afterschool/admin.py).

Registering, vetting dates and naming people on courses go through afterschool/people.py
from the pages at /people/ (the bureau registers there too), so every change is checked and
audited; the admin lists the register for search, with phone numbers masked."""

from django.contrib import admin

from afterschool.models import OfferingPerson, Person

__all__ = ["PersonAdmin"]


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OfferingPersonInline(admin.TabularInline):
    model = OfferingPerson
    fields = ("offering", "role", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Person)
class PersonAdmin(ReadOnly):
    list_display = ("name", "kind", "phone_masked", "school", "site", "provider", "venue",
                    "no_criminal_record_on", "health_cert_on", "trained_on", "active")  # fmt: skip
    list_filter = ("kind", "active", "district")
    search_fields = ("name", "venue", "provider__name")
    list_select_related = ("school", "site", "provider")
    fields = ("name", "kind", "phone_masked", "district", "school", "site", "provider",
              "venue", "no_criminal_record_on", "health_cert_on", "trained_on", "active",
              "created_at")  # fmt: skip
    readonly_fields = fields
    inlines = [OfferingPersonInline]

    @admin.display(description="联系电话")
    def phone_masked(self, obj):
        return obj.masked_phone
