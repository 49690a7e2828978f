"""The whitelist search as a JSON API: /api/institutions/ (public, read-only)."""

import django_filters
from rest_framework import generics, permissions, serializers

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


class InstitutionList(generics.ListAPIView):
    """Search the register: partial Chinese name, district, category, subject, list colour."""

    serializer_class = InstitutionSerializer
    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    filterset_class = InstitutionFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator: no database
            return Institution.objects.none()
        p = self.request.query_params
        return selectors.public_search(
            q=p.get("q", ""),
            district=p["district"] if p.get("district", "").isdigit() else None,
            category=p.get("category", ""), subject=p.get("subject", ""),
            list_colour=p.get("colour", ""),
        )  # fmt: skip
