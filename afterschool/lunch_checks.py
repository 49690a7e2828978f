"""Nightly checks of the lunch part (portal.compliance.register)."""
