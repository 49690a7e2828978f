"""Dashboard panels of inspections (专项整治), 约谈, sanctions and 通报 (imported by
institutions/dashboard.py)."""
