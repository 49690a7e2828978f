"""Nightly checks of the people part (portal.compliance.register)."""
