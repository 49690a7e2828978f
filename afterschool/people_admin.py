"""The people part in the admin (its admin classes call its services)."""
