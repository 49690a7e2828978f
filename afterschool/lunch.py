"""Lunch-break care (午托): per school and month, beds as a capacity beside seats."""
