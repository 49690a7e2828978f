"""The lunch part in the admin (its admin classes call its services)."""
