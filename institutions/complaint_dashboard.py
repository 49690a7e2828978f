"""Dashboard panels of complaints (举报/投诉) and their handling (imported by
institutions/dashboard.py)."""
