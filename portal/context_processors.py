from portal.access import kind_of


def portal(request):
    return {"viewer_kind": kind_of(getattr(request, "user", None))}
