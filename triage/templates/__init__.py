"""Jinja2 templates of the triage pages (a package only so that they ship in the wheel)."""
