"""Dashboard panels of the fair part (portal.dashboard.panel)."""
