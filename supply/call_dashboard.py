"""Dashboard panels of the call part (portal.dashboard.panel)."""
