"""Nightly checks of the call part (portal.compliance.register)."""
