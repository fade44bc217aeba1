"""Access to records (ids ``access.*``): canaries, covert subjects, off-duty access, volume and
exfiltration, and person look-ups without a policing purpose.

Look-ups without a purpose are the commonest integrity breach and the hardest to raise well,
because most look-ups without a recorded purpose are legitimate. Each look-up detector answers
one question analysts ask, and stays quiet on the rest:

- ``access.no_purpose``: repeated or contact-detail look-ups of the same person, or of an
  organised-crime nominal, that nothing links the officer to;
- ``access.self_family_colleague``: the officer's own record, their household, declared
  associates, colleagues;
- ``access.vip_browsing``: high-profile people with no link;
- ``access.vulnerable_victim``: repeated views of a vulnerable victim, then contact;
- ``access.complainant_lookup``: the person who complained about the officer.

Subjects with a detector of their own (VIPs, vulnerable victims, covert subjects, canaries,
staff) are left to it, so one behaviour gives one alert. Per-officer state holds recent
unjustified look-ups per subject (pruned by event time, :mod:`detectors.lib.books`) and when
each was last raised.
"""
