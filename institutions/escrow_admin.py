"""Admin of the escrow ledger (written by the escrow work)."""
