"""Dashboard panels of the sites part (portal.dashboard.panel)."""
