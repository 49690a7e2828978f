"""Organisations, their members and experts in the admin."""
