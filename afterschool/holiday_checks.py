"""Nightly checks of the holiday part (portal.compliance.register)."""
