"""torch → ONNX: export one network, check it against torch, quantise and prune it.

* :func:`export_onnx`: torch's ``torch.export``-based exporter (``dynamo=True``,
  opset 18) with the spec's dynamic axes; networks it cannot trace (Python
  control flow on tensor values) fall back to the TorchScript tracer, and the
  exporter used is recorded;
* :func:`rewrite_scatter_add`: message-passing sums as row-wise ``ScatterND``
  (onnxruntime runs the exporter's element-wise ``ScatterElements`` slowly);
* :func:`max_abs_delta`: the largest ``|onnxruntime − torch|`` over fixed inputs;
* :func:`quantize_int8`: onnxruntime static quantisation (QDQ, int8 weights per
  channel, uint8 activations, MinMax calibration on the given inputs) of the
  spec's op types;
* :func:`prune_magnitude`: global magnitude (L1) pruning of a fraction of the
  weights of every Linear, Conv and LSTM layer (torch.nn.utils.prune), made
  permanent.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from tracklearn.errors import TracklearnError
from tracklearn.export.runtime import make_session
from tracklearn.export.spec import Arrays, ExportSpec
from tracklearn.io.atomic import atomic_path

log = logging.getLogger(__name__)

OPSET = 18


class ExportError(TracklearnError):
    """A network could not be exported or its export does not match torch."""


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporters' and quantiser's own prints, warnings and root-logger advice."""
    loggers = [logging.getLogger(), logging.getLogger("torch.onnx")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with (
            contextlib.redirect_stdout(io.StringIO()),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _tensors(spec: ExportSpec, inputs: Arrays) -> tuple[torch.Tensor, ...]:
    return tuple(torch.from_numpy(np.ascontiguousarray(inputs[n])) for n in spec.input_names)


def torch_outputs(core: nn.Module, spec: ExportSpec, inputs: Arrays) -> list[npt.NDArray[Any]]:
    """Outputs of the torch network on numpy ``inputs`` (in the spec's output order)."""
    with torch.no_grad():
        out = core(*_tensors(spec, inputs))
    outs = out if isinstance(out, tuple | list) else (out,)
    return [o.detach().numpy() for o in outs]


def export_onnx(core: nn.Module, spec: ExportSpec, example: Arrays, path: str | Path) -> str:
    """Write ``core`` as ONNX to ``path`` (atomically); return the exporter used.

    ``example`` holds one input per name of ``spec.input_names`` with every
    dynamic axis of size ≥ 2 (sizes 0 and 1 would be baked in by the tracer).
    """
    from torch.export import Dim

    core = core.eval()
    args = _tensors(spec, example)
    dims: dict[str, Any] = {}
    dynamic = tuple(
        {ax: dims.setdefault(d, Dim(d)) for ax, d in spec.dynamic_axes.get(n, {}).items()} or None
        for n in spec.input_names
    )
    path = Path(path)
    try:
        with _quiet():
            program = torch.onnx.export(
                core,
                args,
                None,
                input_names=list(spec.input_names),
                output_names=list(spec.output_names),
                dynamic_shapes=dynamic,
                dynamo=True,
                opset_version=OPSET,
                verbose=False,
            )
        assert program is not None
        with atomic_path(path) as tmp:
            program.save(str(tmp))
        rewrite_scatter_add(path)
        return "dynamo"
    except Exception as exc:  # torch.export cannot trace this network: use the tracer
        log.info("torch.export failed (%s); using the TorchScript exporter", type(exc).__name__)
    try:
        with _quiet(), atomic_path(path) as tmp:
            torch.onnx.export(
                core,
                args,
                str(tmp),
                input_names=list(spec.input_names),
                output_names=list(spec.output_names),
                dynamic_axes={k: dict(v) for k, v in spec.dynamic_axes.items()},
                opset_version=17,
                dynamo=False,
            )
    except Exception as exc:
        raise ExportError(f"cannot export {type(core).__name__} to ONNX: {exc}") from None
    rewrite_scatter_add(path)
    return "torchscript"


def rewrite_scatter_add(path: str | Path) -> int:
    """Turn row-wise ``ScatterElements(add)`` into ``ScatterND(add)`` in place; return the count.

    torch.export writes ``index_add``/``scatter_add`` over rows (the sums of
    message passing) as ``ScatterElements(data, Expand(Reshape(idx, [-1, 1])),
    updates, axis=0, reduction=add)``: one index per element, which
    onnxruntime runs element by element (70 % of the Interaction Network's
    time).  ``ScatterND(data, Reshape(idx, [-1, 1]), updates, reduction=add)``
    adds the same rows, a row at a time (2.7× faster there).  Only this exact
    pattern is rewritten; the parity check runs on the rewritten model.
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    nodes, count = [], 0
    for node in graph.node:
        if node.op_type == "ScatterElements":
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            expand = producer.get(node.input[1])
            reshape = producer.get(expand.input[0]) if expand is not None else None
            if (
                attrs.get("reduction") == b"add"
                and attrs.get("axis", 0) == 0
                and expand is not None
                and expand.op_type == "Expand"
                and reshape is not None
                and reshape.op_type == "Reshape"
                and reshape.input[1] in consts
                and consts[reshape.input[1]].tolist() == [-1, 1]
            ):
                nodes.append(
                    helper.make_node(
                        "ScatterND", [node.input[0], reshape.output[0], node.input[2]],
                        list(node.output), name=f"{node.name}_rows", reduction="add",
                    )
                )  # fmt: skip
                count += 1
                continue
        nodes.append(node)
    if count:
        del graph.node[:]
        graph.node.extend(nodes)
        with atomic_path(path) as tmp:
            onnx.save(model, str(tmp))
    return count


def max_abs_delta(
    core: nn.Module,
    spec: ExportSpec,
    onnx_path: str | Path,
    inputs: Iterable[Arrays],
    *,
    relative: bool = False,
) -> float:
    """Largest ``|onnxruntime − torch|`` over every output element of every input set.

    With ``relative``, each difference is divided by ``max(1, |torch|)`` (for
    real inputs, whose logits can reach tens, where float32 rounding alone
    exceeds 1e-5 in absolute terms).
    """
    session = make_session(onnx_path, threads=1)
    worst = 0.0
    for item in inputs:
        want = torch_outputs(core, spec, item)
        got = session.run(None, {n: item[n] for n in spec.input_names})
        for w, g in zip(want, got, strict=True):
            if w.shape != g.shape:
                raise ExportError(f"{onnx_path}: output shape {g.shape}, torch gives {w.shape}")
            if w.size:
                w64 = w.astype(np.float64)
                delta = np.abs(w64 - g)
                if relative:
                    delta = delta / np.maximum(1.0, np.abs(w64))
                worst = max(worst, float(np.max(delta)))
    return worst


def quantize_int8(
    fp32_path: str | Path,
    out_path: str | Path,
    calibration: Sequence[Arrays],
    op_types: Sequence[str],
    *,
    per_channel: bool = True,
    keep_first_float: bool = False,
) -> list[str]:
    """Static int8 quantisation of ``fp32_path`` into ``out_path`` (see the module docstring).

    ``keep_first_float`` leaves the first layers in float: the ``op_types``
    nodes that read the model inputs with no quantised op in between (raw
    features of very different scales share one activation scale badly).
    Returns the names of the nodes left in float.
    """
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class _Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._it = iter(calibration)

        def get_next(self) -> dict[str, npt.NDArray[Any]] | None:
            return next(self._it, None)

    out_path = Path(out_path)
    with atomic_path(out_path.with_suffix(".pre.onnx")) as pre, _quiet():
        try:
            quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
            source = pre
        except Exception:  # the optimiser cannot handle every graph; quantise as exported
            source = Path(fp32_path)
        excluded = first_layer_nodes(source, op_types) if keep_first_float else []
        with atomic_path(out_path) as tmp:
            quantize_static(
                str(source),
                str(tmp),
                _Reader(),
                quant_format=QuantFormat.QDQ,
                op_types_to_quantize=list(op_types),
                per_channel=per_channel,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                calibrate_method=CalibrationMethod.MinMax,
                nodes_to_exclude=excluded,
            )
    out_path.with_suffix(".pre.onnx").unlink(missing_ok=True)
    return excluded


def first_layer_nodes(path: str | Path, op_types: Sequence[str]) -> list[str]:
    """Nodes of ``op_types`` whose inputs come from the graph inputs through other ops only."""
    import onnx

    graph = onnx.load(str(path)).graph
    raw = {i.name for i in graph.input}  # tensors computed from the inputs by non-layer ops
    first = []
    for node in graph.node:  # ONNX nodes are stored in topological order
        reads_raw = any(t in raw for t in node.input)
        if node.op_type in op_types:
            if reads_raw:
                first.append(node.name)
        elif reads_raw:
            raw.update(node.output)
    return first


def _prunable(module: nn.Module) -> list[tuple[nn.Module, str]]:
    params: list[tuple[nn.Module, str]] = []
    for m in module.modules():
        if isinstance(m, nn.Linear | nn.Conv1d | nn.Conv2d | nn.Conv3d):
            params.append((m, "weight"))
        elif isinstance(m, nn.LSTM):
            params += [(m, n) for n, _ in m.named_parameters() if n.startswith("weight")]
    return params


def prune_magnitude(core: nn.Module, fraction: float) -> tuple[nn.Module, dict[str, float]]:
    """A copy of ``core`` with the ``fraction`` smallest weights (globally, by |w|) set to 0.

    Returns the pruned copy and ``{"fraction", "n_weights", "n_zero"}`` (over the
    pruned weight tensors).
    """
    from torch.nn.utils import prune

    pruned = copy.deepcopy(core).eval()
    params = _prunable(pruned)
    if not params:
        raise ExportError(f"{type(core).__name__}: no Linear, Conv or LSTM weights to prune")
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=fraction)
    for m, name in params:
        prune.remove(m, name)
    n = sum(int(getattr(m, name).numel()) for m, name in params)
    zero = sum(int((getattr(m, name) == 0).sum()) for m, name in params)
    return pruned, {"fraction": fraction, "n_weights": float(n), "n_zero": float(zero)}


def n_parameters(module: nn.Module) -> int:
    """Trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def batches(items: Mapping[str, npt.NDArray[Any]], size: int) -> list[Arrays]:
    """Split arrays along axis 0 into dicts of at most ``size`` rows."""
    n = len(next(iter(items.values())))
    return [{k: v[i : i + size] for k, v in items.items()} for i in range(0, n, size)]
