"""Conduct: complaint patterns, discrimination not referred, discriminatory messages (ids
``conduct.*``)."""
