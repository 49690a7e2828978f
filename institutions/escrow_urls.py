"""Staff pages of the escrow (written by the escrow work)."""

urlpatterns = []
