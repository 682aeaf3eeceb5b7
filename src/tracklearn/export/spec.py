"""How each kind of network is exported: one :class:`ExportSpec` per registry name.

An export spec says what the exported ONNX graph takes and returns (names,
dynamic axes), how to make valid example inputs of any size (parity checks and
the fall-back calibration), which module is exported (``core``: e.g. an edge
model without its numpy front-end) and which ops int8 quantisation touches.
Specs register by the model's registry name (:func:`register_export_spec`);
modules that define specs are imported on first lookup (they import torch;
this module does not).

To make a new network exportable: write its spec (a few lines, see
:mod:`tracklearn.export.specs`) and register it under the model's registry
name; a model folder with ``model.json`` (``model``, ``kwargs``) and
``weights.pt`` is then exported by ``tracklearn export`` with parity checks,
int8 and pruning.  Task-specific calibration data and accuracy metrics are
added in :mod:`tracklearn.export.units` (without them, int8 is calibrated on
the example inputs and no accuracy is reported).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from tracklearn.registry import Registry

if TYPE_CHECKING:
    from torch import nn

Arrays = dict[str, npt.NDArray[Any]]


def _same(module: nn.Module, meta: Mapping[str, Any]) -> nn.Module:
    return module


@dataclass(frozen=True)
class ExportSpec:
    """What the exported network of one model kind looks like.

    Attributes
    ----------
    input_names, output_names
        Names of the ONNX inputs (in the order of ``core``'s ``forward``) and outputs.
    dynamic_axes
        ``{tensor name: {axis: dimension name}}``; axes sharing a name share a size.
    example_inputs
        ``(module, meta, size, rng) -> {input name: array}``: valid inputs with
        ``size`` items (images, events, or nodes of a graph), for parity checks.
    core
        ``(module, meta) -> module`` that is exported (default: the model itself).
    front_end
        Name of the numpy pre-processing the runtime applies before the network
        (``"none"``, or ``"edge:<features>"`` for the edge models).
    quantize_op_types
        ONNX op types int8 static quantisation converts (the rest stays float).
    keep_first_float
        Leave the first layers (those reading the inputs) in float: for inputs of
        mixed scales, such as the edge models' features.
    """

    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    dynamic_axes: Mapping[str, Mapping[int, str]]
    example_inputs: Callable[[nn.Module, Mapping[str, Any], int, np.random.Generator], Arrays]
    core: Callable[[nn.Module, Mapping[str, Any]], nn.Module] = _same
    front_end: str = "none"
    quantize_op_types: tuple[str, ...] = ("Conv", "MatMul", "Gemm")
    keep_first_float: bool = False


#: the loader (importing :mod:`~tracklearn.export.specs`) is set in :mod:`tracklearn.export`
_SPECS: Registry[ExportSpec] = Registry("exportable model")


def register_export_spec(name: str, spec: ExportSpec) -> ExportSpec:
    """Make the model registered as ``name`` exportable with ``spec``; return ``spec``."""
    _SPECS.add(name, spec)
    return spec


def exportable_models() -> list[str]:
    """Registry names with an export spec, sorted."""
    return _SPECS.names()


def get_export_spec(name: str) -> ExportSpec:
    """The spec of model ``name``; an unknown name lists the exportable ones."""
    return _SPECS.get(name)
