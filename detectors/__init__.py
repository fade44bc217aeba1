"""Integrity-risk detectors: pure classes from (event, state view) to findings. No I/O.

- ``base.py``: the contract (``Params`` models, mode bases, the state view);
  ``registry.py``: discovery and start-up validation; ``catalogue.py``: what
  ``probity detectors`` prints; ``conformance.py``: the checks every detector passes;
  ``exceptions.py``: this package's errors.
- ``access/``, ``association/``, ``audit/``, ``conduct/``, ``field/``, ``risk/``,
  ``vetting/``: one package per family, one module per detector (``access.canary`` is
  ``access/canary.py``), the family's parameter models in ``params.py``.
- ``lib/``: helpers detectors share; ``reference/``: reference state by event time;
  ``graph/``: the association graph; ``officers.py``: per-officer state.

How to add one: docs/adding-a-detector.md.
"""
