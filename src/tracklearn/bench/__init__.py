"""Every benchmark suite of the project and the writers of ``benchmarks/results/*.md``.

One module per suite (``baselines``, ``simulation``, ``graphs``, ``gnn``, ``classical``,
``toys``, ...); :mod:`tracklearn.bench.suites` runs them by name for ``tracklearn
bench``.  The domain packages never import from here (arrows point down).
"""
