"""JSON helpers: flattening hyperparameters into dotted columns, and TicketLab's branch labels.

A branch's series label (``retrain (retrain_lr=0.05)``; the noise floor's ``retrain (data_order_seed=2000003+replicate)``) is built as
``LotteryTable.BranchLabel`` builds it, from the JSON text of the values, so numbers are kept as
written in the file (``1E-05`` stays ``1E-05``).
"""

from __future__ import annotations

import json
import os
from decimal import Decimal, InvalidOperation
from typing import Any

# The defaults of each branch's hyperparameters as TicketLab writes them (src/TicketLab/Lottery/Branches/*):
# a branch's label names the settings that differ from these. A branch not listed is labelled by its folder name.
BRANCH_DEFAULTS: dict[str, dict[str, Any]] = {
    "random_reinit": {"seed": 1},
    "random_prune": {"seed": 1, "prune_scope": "layerwise"},
    "retrain": {},
    "pruning_solution": {"finetune_steps": "2ep", "seed": 1},
}


class RawNumber:
    """A JSON number with the text it was written as."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def decimal(self) -> Decimal:
        return Decimal(self.text)


def read_json(path: str | os.PathLike, *, raw_numbers: bool = False) -> Any:
    with open(path, encoding="utf-8") as f:
        if raw_numbers:
            return json.load(f, parse_float=RawNumber, parse_int=RawNumber)
        return json.load(f)


def read_object(path: str | os.PathLike, *, raw_numbers: bool = False) -> dict | None:
    """A JSON file holding an object, or None when the file does not exist."""
    if not os.path.isfile(path):
        return None
    value = read_json(path, raw_numbers=raw_numbers)
    if not isinstance(value, dict):
        raise ValueError(f"{os.fspath(path)}: not a JSON object")
    return value


def _number(value: Any) -> Decimal | None:
    if isinstance(value, RawNumber):
        return value.decimal()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return Decimal(repr(value))
        except InvalidOperation:  # pragma: no cover
            return None
    return None


def deep_equal(a: Any, b: Any) -> bool:
    """JSON equality, numbers by value (1 equals 1.0, as System.Text.Json's DeepEquals)."""
    na, nb = _number(a), _number(b)
    if na is not None or nb is not None:
        return na is not None and nb is not None and na == nb
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(deep_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(deep_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


_ESCAPED = set('"\\<>&\'+`')


def _string_text(value: str) -> str:
    # System.Text.Json's default encoder: HTML-sensitive and non-ASCII characters as \uXXXX.
    out = []
    for ch in value:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch in _ESCAPED or code < 0x20 or code > 0x7E:
            if code > 0xFFFF:
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04X}")
            else:
                out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def json_text(value: Any) -> str:
    """Compact JSON text as System.Text.Json's ToJsonString writes it (numbers as read)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, RawNumber):
        return value.text
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return _string_text(value)
    if isinstance(value, list):
        return "[" + ",".join(json_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(_string_text(k) + ":" + json_text(v) for k, v in value.items()) + "}"
    raise TypeError(f"not a JSON value: {value!r}")


def branch_name(folder_name: str) -> str:
    """``random_reinit`` for the folder ``random_reinit_44136fa355b3678a``."""
    return folder_name[: folder_name.rfind("_")] if "_" in folder_name else folder_name


def branch_label(run_folder: str) -> str:
    """The series a branch run's results are labelled with in results.csv: its name, with the
    hyperparameters it sets away from their defaults (``retrain (retrain_lr=0.05)``); a nested group
    (the retrain recipe) is told by how it differs from the ticket's own run beside it."""
    folder = os.path.basename(os.path.normpath(run_folder))
    name = branch_name(folder)
    hparams = read_object(os.path.join(run_folder, "hparams.json"), raw_numbers=True)
    branch = hparams.get("branch") if hparams else None
    stored = branch.get("hparams") if isinstance(branch, dict) else None
    if not isinstance(stored, dict) or name not in BRANCH_DEFAULTS:
        return folder
    defaults = BRANCH_DEFAULTS[name]
    ticket = read_object(os.path.join(os.path.dirname(os.path.normpath(run_folder)), "main", "hparams.json"), raw_numbers=True)
    changed = []
    for key, value in stored.items():
        if key in defaults and deep_equal(defaults[key], value):
            continue
        reference = ticket.get(key) if isinstance(ticket, dict) else None
        if isinstance(value, dict) and isinstance(reference, dict):
            changed.extend(f"{k}={_group_text(run_folder, name, k, v)}" for k, v in value.items() if not deep_equal(reference.get(k), v))
        else:
            changed.append(f"{key}={_label_text(value)}")
    return f"{name} ({', '.join(changed)})" if changed else name


NOISE_FLOOR_SEED_BASE = 2_000_003  # RetrainHparams.NoiseFloorSeedBase


def _group_text(run_folder: str, branch: str, key: str, value: Any) -> str:
    """A retrain's noise-floor seed (2000003 + replicate) reads as its rule, the same in every replicate."""
    replicate_folder = os.path.basename(os.path.dirname(os.path.dirname(os.path.normpath(run_folder))))
    number = replicate_folder[len("replicate_"):] if replicate_folder.startswith("replicate_") else ""
    if branch == "retrain" and key == "data_order_seed" and number.isdigit() and _label_text(value) == str(NOISE_FLOOR_SEED_BASE + int(number)):
        return f"{NOISE_FLOOR_SEED_BASE}+replicate"
    return _label_text(value)


def _label_text(value: Any) -> str:
    return "none" if value is None else json_text(value).strip('"')


def branch_of(series: str) -> str:
    """The branch a series label belongs to (``LotteryTable.BranchOf``): ``retrain`` for
    ``retrain (retrain_lr=0.05)``, ``random_prune`` for ``random_prune_44136fa3``."""
    cut = series.find(" (")
    if cut >= 0:
        return series[:cut]
    cut = series.rfind("_")
    tail = series[cut + 1:]
    if cut > 0 and len(tail) in (8, 16) and all(c in "0123456789abcdef" for c in tail):
        return series[:cut]
    return series


def _scalar_text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def flatten(obj: dict, prefix: str = "", out: dict | None = None, skip: tuple[str, ...] = ()) -> dict:
    """Nested groups to dotted keys (``{"training": {"lr": 0.1}}`` to ``{"training.lr": 0.1}``). A
    list of plain values becomes the comma list the command line takes (``80ep,120ep``; ``""`` when
    empty), any other list its JSON text."""
    out = {} if out is None else out
    for key, value in obj.items():
        if key in skip:
            continue
        name = prefix + key
        if isinstance(value, dict):
            flatten(value, name + ".", out)
        elif isinstance(value, list):
            if all(not isinstance(v, (dict, list)) for v in value):
                out[name] = ",".join(_scalar_text(v) for v in value)
            else:
                out[name] = json.dumps(value, separators=(",", ":"))
        else:
            out[name] = value
    return out
