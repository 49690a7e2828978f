"""Nightly checks of the sites part (portal.compliance.register)."""
