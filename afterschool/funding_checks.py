"""Nightly checks of the funding part (portal.compliance.register)."""
