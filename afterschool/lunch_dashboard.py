"""Dashboard panels of the lunch part (portal.dashboard.panel)."""
