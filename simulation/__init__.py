"""A simulated police force written as contract-v1 events, with labels for what was injected.

``simulation.generator.Force`` writes a force's reference data and activity (benign life plus
injected misconduct scenarios and legitimate look-alikes); ``simulation.evaluate`` scores the
alerts a replay gave against the labels. Pure Python, deterministic for a seed, no I/O except
in its command, ``probity.commands.simulation``. ``Force(noise="realistic")`` (``probity
simulate --noise realistic``) adds a real force's mess at the rates ``simulation.noise``
declares; labels' metadata then carries a ``noise`` object (profile, rates, and what was made).

``labels.json``::

    {"metadata": {"generator": "probity.simulation", "version": 1, "seed": 1, "staff": 301,
                  "days": 21, "start": "...Z", "end": "...Z", "events": 104575},
     "scenarios": [{"id": "SC-001", "kind": "canary", "legitimate": false,
                    "detectors": ["access.canary"],      # expected to find it (recall)
                    "also": ["access.no_purpose"],        # would rightly fire too (precision)
                    "category": "misuse_of_systems", "officers": ["S1063"],
                    "window": {"start": "...Z", "end": "...Z"},
                    "evidence": ["ath-0129735", "ath-0129739"], "note": "..."}],
     "lookalikes": [{... same shape, "legitimate": true, "detectors": the ones that must
                     NOT raise on it ...}],
     "incidental": [{... same shape, "id": "IN-001", "detectors": the ones that rightly
                     raise about someone the injector did not pick, such as a look-alike
                     officer's housemate; true alerts, not scored for recall ...}]}

``incidental`` is written only when a force has some.
"""
