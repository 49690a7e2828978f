"""The escrow ledger of parents' prepaid fees (written by the escrow work)."""
