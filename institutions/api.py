"""The whitelist search as a JSON API: /api/institutions/ (public, read-only)."""

import django_filters
from django.utils.translation import gettext_lazy as _
from rest_framework import generics, pagination, permissions, serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from institutions import colour, selectors
from institutions.models import SUBJECT_CHOICES, Institution


class InstitutionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label="机构名称（部分匹配）", method="filter_noop")
    district = django_filters.NumberFilter(field_name="district_id", label="区")
    category = django_filters.ChoiceFilter(choices=Institution.Category.choices, label="类别")
    subject = django_filters.ChoiceFilter(
        choices=SUBJECT_CHOICES, label="科目", method="filter_noop"
    )
    colour = django_filters.ChoiceFilter(
        choices=[(k, v) for k, v in colour.LABELS.items()], label="名单", method="filter_noop"
    )

    class Meta:
        model = Institution
        fields = ["q", "district", "category", "subject", "colour"]

    def filter_noop(self, queryset, name, value):
        # applied by the selector, which also annotates the colour
        return queryset


class InstitutionSerializer(serializers.ModelSerializer):
    colour = serializers.CharField(read_only=True)
    colour_label = serializers.SerializerMethodField()
    district = serializers.CharField(source="district.name", read_only=True)

    class Meta:
        model = Institution
        fields = ["id", "name", "category", "subjects", "mode", "district", "licence_expires",
                  "colour", "colour_label"]  # fmt: skip

    def get_colour_label(self, obj) -> str:
        return str(colour.LABELS[obj.colour])


class SearchPagination(pagination.PageNumberPagination):
    """DRF's page numbers over ``selectors.public_search_page``: one query for the page and
    its count, only the columns the API shows; a page past the last is DRF's 404."""

    columns = ("id", "name", "category", "subjects", "mode", "district", "licence_expires")

    def paginate_queryset(self, queryset, request, view=None):
        # ``queryset`` has been through the FilterSet (a 400 for an invalid filter); the
        # rows come from the same filters as one raw query (view.search_filters)
        self.request = request
        raw = request.query_params.get(self.page_query_param) or "1"
        last = raw in self.last_page_strings  # ?page=last: past the end, clamped back
        if not last and (not raw.isdigit() or int(raw) < 1):
            raise NotFound(_("无效页码。"))
        self.page = selectors.public_search_page(
            **view.search_filters(), page=2**31 if last else int(raw),
            per_page=self.get_page_size(request), columns=self.columns, clamp=last,
        )  # fmt: skip
        if not self.page.rows and self.page.number > 1:
            raise NotFound(_("无效页码。"))
        return self.page.rows

    def _link(self, number):
        url = self.request.build_absolute_uri()
        if number == 1:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, number)

    def get_paginated_response_schema(self, schema):
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count_capped"] = {"type": "boolean", "example": False}
        return described

    def get_paginated_response(self, data):
        page = self.page
        return Response({
            "count": page.count,
            # the count stopped at selectors.COUNT_CAP: more institutions match than "count"
            "count_capped": page.capped,
            "next": self._link(page.number + 1) if page.has_next else None,
            "previous": self._link(page.number - 1) if page.has_previous else None,
            "results": data,
        })  # fmt: skip


def _row(r: dict, labels: dict) -> dict:
    """One result as InstitutionSerializer writes it (the serializer stays for the schema;
    building 50 dicts directly costs a fraction of running it); ``labels``: the colours'
    labels, translated once per request."""
    expires = r["licence_expires"]
    return {
        "id": r["id"], "name": r["name"], "category": r["category"], "subjects": r["subjects"],
        "mode": r["mode"], "district": r["district"],
        "licence_expires": expires.isoformat() if expires else None,
        "colour": r["colour"], "colour_label": labels[r["colour"]],
    }  # fmt: skip


_CHOICES = {
    "category": {"", *Institution.Category.values},
    "subject": {"", *(value for value, _label in SUBJECT_CHOICES)},
    "colour": {"", *colour.LABELS},
}


def _plainly_valid(params) -> bool:
    """Every filter absent or a value InstitutionFilter accepts as it is (a district by its
    digits, a choice among its choices): what may skip the FilterSet. Stricter than the
    FilterSet, never looser (e.g. district=1.5 goes through it)."""
    for name, allowed in _CHOICES.items():
        if params.get(name, "") not in allowed or len(params.getlist(name)) > 1:
            return False
    district = params.get("district", "")
    return (district == "" or district.isdigit()) and len(params.getlist("district")) <= 1


class InstitutionList(generics.ListAPIView):
    """Search the register: partial Chinese name, district, category, subject, list colour."""

    serializer_class = InstitutionSerializer
    pagination_class = SearchPagination
    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    filterset_class = InstitutionFilter

    def search_filters(self) -> dict:
        p = self.request.query_params
        return {
            "q": p.get("q", ""),
            "district": p["district"] if p.get("district", "").isdigit() else None,
            "category": p.get("category", ""), "subject": p.get("subject", ""),
            "list_colour": p.get("colour", ""),
        }  # fmt: skip

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator: no database
            return Institution.objects.none()
        # what the FilterSet validates the parameters against (a 400 for an invalid one);
        # never run: the rows come from selectors.public_search_page (SearchPagination)
        return Institution.objects.all()

    def filter_queryset(self, queryset):
        # the FilterSet (django-filter builds and deep-copies a form per request: a third of
        # the view's Python) only when a parameter is not plainly valid; it answers 400 for
        # what it refuses, and the rows come from public_search_page either way
        if _plainly_valid(self.request.query_params):
            return queryset
        return super().filter_queryset(queryset)

    def list(self, request, *args, **kwargs):
        rows = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        labels = {k: str(v) for k, v in colour.LABELS.items()}
        return self.get_paginated_response([_row(r, labels) for r in rows])
