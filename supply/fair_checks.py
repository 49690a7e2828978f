"""Nightly checks of the fair part (portal.compliance.register)."""
