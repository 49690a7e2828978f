"""Dashboard panels of the catalogue part (portal.dashboard.panel)."""
