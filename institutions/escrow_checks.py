"""Nightly checks of the escrow (written by the escrow work)."""
