from django.urls import path

from institutions.api import InstitutionList

urlpatterns = [path("", InstitutionList.as_view(), name="api-institutions")]
