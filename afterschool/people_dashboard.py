"""Dashboard panels of the people part (portal.dashboard.panel)."""
