from django.urls import path

from institutions.api import InstitutionList
from portal.public_cache import cached_public

urlpatterns = [
    path("", cached_public("institutions")(InstitutionList.as_view()), name="api-institutions")
]
