"""Vetting: barred-list matches, access without vetting, expiry, reviews owed (ids
``vetting.*``)."""
