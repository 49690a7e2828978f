from django.urls import path

from institutions.api import InstitutionList
from institutions.views import SEARCH_PARAMS
from portal.public_cache import cached_public

urlpatterns = [
    path(
        "",
        # the filters and DRF's page: anything else is dropped (portal/public_cache.py)
        cached_public("institutions", params=SEARCH_PARAMS, negotiated=True)(
            InstitutionList.as_view()
        ),
        name="api-institutions",
    )
]
