"""The roofline: how long a report's layers should take on one machine.

Williams, Waterman and Patterson 2009 ("Roofline: an insightful visual
performance model"). A layer cannot run faster than its arithmetic allows nor
faster than its bytes can move::

    time = max(MACs / GEMM rate, traffic bytes / copy bandwidth)

The two rates are this machine's, measured by ``conv1x1.fast.timing.machine_peaks``
(NumPy's matrix multiply and a large array copy). A layer is "compute"-bound
when the first term is the larger, "memory"-bound otherwise; the intensity
(MACs per byte) where the two meet is the ridge.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import DTypeLike

from .._checks import check_float_dtype, check_positive_int
from .render import prediction_text

if TYPE_CHECKING:
    from .report import Report

__all__ = ["Peaks", "Prediction", "predict"]


class Peaks(Protocol):
    """What a roofline needs of a machine (``conv1x1.fast.timing.MachinePeaks`` has it)."""

    @property
    def gmacs(self) -> Mapping[str, float]:
        """The GEMM rate per dtype name ("float32", "float64"), in GMAC/s."""
        ...

    @property
    def gb_per_second(self) -> float:
        """Memory copy bandwidth, bytes read and written, in GB/s (1 GB = 1e9 bytes)."""
        ...

    def macs_per_second(self, dtype: DTypeLike) -> float:
        """The GEMM rate for ``dtype``, in multiply-accumulates per second."""
        ...

    def ridge(self, dtype: DTypeLike) -> float:
        """The intensity (MACs per byte) above which a layer is compute-bound."""
        ...


@dataclass(frozen=True)
class Prediction:
    """Roofline times of a report's layers on one machine (``Report.predict``).

    Attributes
    ----------
    rows : tuple of dict
        Per layer: ``path``, ``name``, ``kind``, ``macs`` and ``bytes`` (for the
        batch), ``intensity`` (MACs per byte), ``seconds`` (the roofline time) and
        ``bound`` ("compute" or "memory").
    peaks : MachinePeaks
    dtype : str
    batch : int
    title : str
    """

    rows: tuple[dict[str, Any], ...]
    peaks: Peaks
    dtype: str
    batch: int
    title: str = ""

    @property
    def seconds(self) -> float:
        """The whole report's roofline time: the sum over its layers (they run one after another)."""
        return float(sum(row["seconds"] for row in self.rows))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __str__(self) -> str:
        return prediction_text(self)


def predict(report: Report, peaks: Peaks, dtype: DTypeLike = np.float32, batch: int = 1) -> Prediction:
    """Each layer's roofline time on a machine with ``peaks`` (``conv1x1.fast.timing.machine_peaks()``).

    ``time = max(batch x MACs / GEMM rate, traffic bytes / copy bandwidth)``, with
    ``LayerCost.traffic_bytes(dtype, batch)`` = itemsize x (batch x (input + output
    elements) + parameters).

    Parameters
    ----------
    report : Report
    peaks : MachinePeaks
        Anything with ``macs_per_second(dtype)`` and ``gb_per_second``.
    dtype : float32 or float64, default float32
    batch : int, default 1

    Returns
    -------
    Prediction
    """
    dtype = check_float_dtype(dtype)
    batch = check_positive_int(batch, "batch")
    rate, bandwidth = peaks.macs_per_second(dtype), peaks.gb_per_second * 1e9
    rows = []
    for row, layer in zip(report.rows(), report.layers):
        layer_bytes = layer.traffic_bytes(dtype, batch)
        compute, memory = batch * row["macs"] / rate, layer_bytes / bandwidth
        rows.append({"path": row["path"], "name": row["name"], "kind": row["kind"], "macs": batch * row["macs"],
                     "bytes": layer_bytes, "intensity": batch * row["macs"] / layer_bytes,
                     "seconds": max(compute, memory), "bound": "compute" if compute > memory else "memory"})
    return Prediction(tuple(rows), peaks, dtype.name, batch, report.title)
