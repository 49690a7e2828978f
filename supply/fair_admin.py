"""Admin of the matching fair (双向选择会) (imported by supply/admin.py).

Read-only: needs, offers and choices are posted by schools and providers and the matching
runs once, through supply/fair.py (the pages at /fair/); the admin shows what was posted,
chosen and matched."""

from django.contrib import admin

from portal.admin import ReadOnlyAdmin
from supply.fair_models import Fair, FairChoice, FairMatch, FairNeed, FairOffer

__all__: list[str] = []


@admin.register(Fair)
class FairAdmin(ReadOnlyAdmin):
    list_display = ["name", "term", "status", "opened_at", "matched_at"]
    list_filter = ["status"]
    list_select_related = ["term", "term__district"]


@admin.register(FairNeed)
class FairNeedAdmin(ReadOnlyAdmin):
    list_display = ["school", "fair", "kind", "grades", "weekdays", "places", "budget_per_lesson"]
    list_filter = ["fair", "kind"]
    list_select_related = ["school", "fair"]
    search_fields = ["school__name"]


@admin.register(FairOffer)
class FairOfferAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "title", "fair", "kind", "capacity", "price_per_lesson",
                    "outside_price"]  # fmt: skip
    list_filter = ["fair", "kind"]
    list_select_related = ["organisation", "fair"]
    search_fields = ["organisation__name", "title"]


@admin.register(FairChoice)
class FairChoiceAdmin(ReadOnlyAdmin):
    list_display = ["side", "need", "offer", "rank"]
    list_filter = ["side", "need__fair"]
    list_select_related = ["need__school", "offer__organisation"]


@admin.register(FairMatch)
class FairMatchAdmin(ReadOnlyAdmin):
    list_display = ["need", "offer", "how", "school_rank", "provider_rank", "contract"]
    list_filter = ["fair", "how"]
    list_select_related = ["need__school", "offer__organisation", "contract"]
