"""A run's ``metrics.csv`` (``name,step,value``), read as TicketLab reads it (``Store/MetricsLog.cs``)."""

from __future__ import annotations

import os
import re

import pandas as pd

# Names that earlier logs used, read as today's names.
FORMER_NAMES = {"train_batch_loss": "train_loss_epoch_mean", "train_batch_accuracy": "train_accuracy_epoch_mean"}
LEARNING_RATE = "learning_rate"
_STEP = re.compile(r"^\s*[+-]?\d+\s*$")


def read_metrics(path: str | os.PathLike) -> pd.DataFrame:
    """The rows of a metrics.csv as a DataFrame with columns ``name`` (str), ``step`` (int64,
    iterations done) and ``value`` (float64), in file order. As in TicketLab: a torn last line (a
    run killed mid-write) is dropped, any other malformed line is an error naming it, and a log of
    the earlier layout has its metrics renamed (``train_batch_loss`` is ``train_loss_epoch_mean``)
    and its ``learning_rate`` rows moved from one step early to the step of the epoch means."""
    path = os.fspath(path)
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    names, steps, values = [], [], []
    former_epoch_mean_step = None
    for number, line in enumerate(lines, start=1):
        if number == 1 or not line:
            continue
        parts = line.split(",")
        try:
            if len(parts) != 3 or not _STEP.match(parts[1]):
                raise ValueError
            step, value = int(parts[1]), float(parts[2])
        except ValueError:
            if number == len(lines):
                break  # a torn last line after kill -9
            raise ValueError(f"{path}:{number}: expected 'name,step,value', got '{line}'.") from None
        name = parts[0]
        if name in FORMER_NAMES:
            name = FORMER_NAMES[name]
            former_epoch_mean_step = step
        elif name == LEARNING_RATE and former_epoch_mean_step is not None:
            if step == former_epoch_mean_step - 1:
                step = former_epoch_mean_step
            former_epoch_mean_step = None
        names.append(name)
        steps.append(step)
        values.append(value)
    return pd.DataFrame({"name": pd.Series(names, dtype=object), "step": pd.Series(steps, dtype="int64"),
                         "value": pd.Series(values, dtype="float64")})
