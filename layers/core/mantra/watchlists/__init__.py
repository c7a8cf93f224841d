"""Watchlists: a user's named lists of instruments, limited by plan; what they hold the live feed streams."""
