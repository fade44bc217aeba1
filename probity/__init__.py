"""Probity: anti-corruption intelligence event processing for police ACUs.

Cross-cutting pieces live here: the one settings object, the root exception,
logging and the ``probity`` command line. The pipeline itself follows the data
flow: ``models`` (what flows), ``detectors`` (what judges it), ``streams`` (what
moves it) and ``triage`` (who acts on it).
"""

__version__ = "0.1.0"
