"""Dashboard panels of the holiday part (portal.dashboard.panel)."""
