"""Tools for developing Probity, not part of its runtime: benchmarks (:mod:`devtools.bench`,
:mod:`devtools.graph_bench`). Installed with the package so that ``probity bench`` can say
what it needs; their own libraries come with the ``bench`` extra."""
