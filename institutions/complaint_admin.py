"""Admin of complaints (举报/投诉) and their handling (imported by institutions/admin.py)."""
