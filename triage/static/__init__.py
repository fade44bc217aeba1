"""Static files of the triage pages (a package only so that they ship in the wheel)."""
