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

from dataclasses import dataclass

import numpy as np

from .._checks import check_float_dtype, check_positive_int
from .render import prediction_text

__all__ = ["Prediction", "predict"]


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

    rows: tuple
    peaks: object
    dtype: str
    batch: int
    title: str = ""

    @property
    def seconds(self) -> float:
        """The whole report's roofline time: the sum over its layers (they run one after another)."""
        return sum(row["seconds"] for row in self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def __str__(self):
        return prediction_text(self)


def predict(report, peaks, dtype=np.float32, batch=1) -> Prediction:
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
