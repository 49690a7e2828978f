"""Nightly checks of the catalogue part (portal.compliance.register)."""
