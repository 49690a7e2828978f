"""Excel import and export of the register (written by the Excel work)."""

from django.http import Http404


def import_view(request):
    raise Http404


def template_xlsx(request):
    raise Http404


def export_xlsx(request):
    raise Http404
