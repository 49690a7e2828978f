"""Dashboard panels of the funding part (portal.dashboard.panel)."""
