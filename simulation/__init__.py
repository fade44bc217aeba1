"""A simulated police force written as contract-v1 events, with labels for what was injected.

``simulation.generator.Force`` writes a force's reference data and activity (benign life plus
injected misconduct scenarios and legitimate look-alikes); ``simulation.evaluate`` scores the
alerts a replay gave against the labels. Pure Python, deterministic for a seed, no I/O except
in ``simulation.cli``.
"""
