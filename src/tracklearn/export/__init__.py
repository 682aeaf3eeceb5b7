"""Deployable inference: ONNX export, int8 quantisation, pruning, onnxruntime backends.

* :mod:`tracklearn.export.spec` / :mod:`~tracklearn.export.specs`: how each kind
  of network is exported (registry by model name);
* :mod:`tracklearn.export.units`: model folders → the networks to export, with
  their calibration data and accuracy metric;
* :mod:`tracklearn.export.run`: ``tracklearn export`` (parity, int8, pruning);
* :mod:`tracklearn.export.runtime`: onnxruntime inference without torch
  (``--backend onnxruntime``), with :mod:`~tracklearn.export.edge_features`,
  the edge models' input front-end in numpy.

This package imports nothing heavy on import: the runtime modules must load in
a process where torch is never imported.
"""

from tracklearn.export.spec import _SPECS


def _load_specs() -> None:
    """Import the module that defines the export specs (it imports torch)."""
    import tracklearn.export.specs  # noqa: F401


_SPECS.load = _load_specs
