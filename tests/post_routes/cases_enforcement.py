"""POST cases of enforcement (tests/post_routes)."""
