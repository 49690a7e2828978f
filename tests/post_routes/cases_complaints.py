"""POST cases of complaints (tests/post_routes)."""
