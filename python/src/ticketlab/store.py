"""A TicketLab experiment store, read as DataFrames.

The store is the folder ``ticketlab`` writes (``--root``): one entry per experiment, named
``<kind>_<hash>``. Layouts (see README.md, "Where data and results live"):

- ``train_<hash>/replicate_N/`` and ``rewind_parent_<hash>/replicate_N/``: one training run each;
- ``lottery_<hash>/replicate_N/level_L/main/`` (the ticket, with ``mask.bin``) and
  ``level_L/<branch>_<hash>/`` (branches); ``replicate_N/compare_<hash>/level_L.json`` (ticket vs
  pruning solution) and ``replicate_N/<analysis>_<hash>/level_L.json`` (level analyses);
- ``instability_<hash>/analysis.json``, ``replicate_N/{parent,copy_a,copy_b}/`` and
  ``replicate_N/interpolation_<hash>.json``;
- ``rewind_sweep_<hash>.json`` (a file) with ``rewind_sweep_<hash>_results.csv`` beside it.

A training run is any folder holding ``hparams.json`` (with ``metrics.csv``, ``summary.json``,
``models/``). Every experiment folder (and a sweep, beside its file) holds ``results.csv``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from . import _json
from .metrics import read_metrics
from .tensors import TensorFileError, read_tensor_file, read_tensors, to_torch

# The experiment kinds, in TicketLab's registry order (Experiments/ExperimentRegistry.cs), and whether
# each is stored as one JSON file rather than a folder of replicates.
KINDS: tuple[tuple[str, bool], ...] = (
    ("train", False), ("rewind_parent", False), ("lottery", False), ("instability", False), ("rewind_sweep", True),
)

RESULT_COLUMNS = ["experiment", "kind", "replicate", "level", "fraction_remaining", "series", "start_step", "metric", "value"]
RUN_COLUMNS = ["experiment", "kind", "replicate", "level", "series", "branch", "run", "path", "state"]
METRIC_ID_COLUMNS = ["experiment", "kind", "replicate", "level", "series", "branch", "run"]
CURVE_COLUMNS = ["alpha", "test_error", "test_loss", "train_error", "train_loss"]

_LEVEL = re.compile(r"^level_(\d+)$")
_STEP_LABEL = re.compile(r"^ep(\d+)_it(\d+)$")
_STEP_SPEC = re.compile(r"^\s*(?:(\d+)\s*ep)?\s*(?:(\d+)\s*it)?\s*$", re.IGNORECASE)
_HASHED = re.compile(r"^(.+)_[0-9a-f]{16}$")
_SKIP_FOLDERS = {"models", "report"}


def default_root() -> str:
    """TicketLab's default store: ``$TICKETLAB_ROOT``, else ``$XDG_DATA_HOME/ticketlab/experiments``
    (``~/.local/share/ticketlab/experiments``)."""
    root = os.environ.get("TICKETLAB_ROOT")
    if root:
        return root
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(data, "ticketlab", "experiments")


def kind_of(path: str) -> str | None:
    """The experiment kind of a store entry (``lottery`` for ``lottery_1a2b...``), or None."""
    name = os.path.basename(os.path.normpath(path))
    is_file = os.path.isfile(path)
    for kind, as_file in KINDS:
        if is_file == as_file and name.startswith(kind + "_") and name.endswith(".json") == as_file:
            return kind
    return None


def replicate_number(folder: str) -> int | None:
    """3 for ``replicate_3``; None for a name that gives no replicate number."""
    name = os.path.basename(os.path.normpath(folder))
    digits = name[len("replicate_"):]
    if name.startswith("replicate_") and digits.isascii() and digits.isdigit() and int(digits) > 0:
        return int(digits)
    return None


def replicates(experiment_folder: str) -> list[tuple[int, str]]:
    """The replicate folders of an experiment folder with their numbers, in numeric order."""
    if not os.path.isdir(experiment_folder):
        return []
    found = []
    for entry in os.scandir(experiment_folder):
        if entry.is_dir() and (number := replicate_number(entry.name)) is not None:
            found.append((number, entry.path))
    return sorted(found)


def lock_held(run_folder: str) -> bool:
    """Whether a process holds the lock of a run folder now (a run being written): TicketLab locks
    ``run.lock`` with flock while it writes a run."""
    path = os.path.join(run_folder, "run.lock")
    if not os.path.exists(path):
        return False
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Linux or macOS
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False  # released and removed between the two checks
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def run_state(run_folder: str) -> str:
    """``finished``, ``diverged``, ``running``, ``partial`` or ``new``, as ``ticketlab list`` says
    (``unreadable`` for a summary.json that is not JSON)."""
    summary_path = os.path.join(run_folder, "summary.json")
    if os.path.isfile(summary_path):
        try:
            summary = _json.read_object(summary_path)
        except ValueError:
            return "unreadable"
        return "finished" if summary.get("diverged_at_step") is None else "diverged"
    if lock_held(run_folder):
        return "running"
    if os.path.exists(os.path.join(run_folder, "checkpoint.bin")) or os.path.exists(os.path.join(run_folder, "metrics.csv")):
        return "partial"
    return "new"


def _filter(frame: pd.DataFrame, filters: dict[str, Any]) -> pd.DataFrame:
    """Rows whose columns match: a value (equality), a list, tuple or set (any of them), None
    (missing), or a function of the column giving booleans. ``training__lr`` names ``training.lr``."""
    for key, wanted in filters.items():
        column = key if key in frame.columns else key.replace("__", ".")
        if column not in frame.columns:
            raise KeyError(f"no column '{column}' to filter on; columns: {', '.join(map(str, frame.columns))}")
        values = frame[column]
        if callable(wanted):
            mask = pd.Series(wanted(values), index=frame.index)
        elif isinstance(wanted, (list, tuple, set, frozenset)):
            mask = values.isin(list(wanted))
        elif wanted is None:
            mask = values.isna()
        else:
            mask = values == wanted
        frame = frame[mask.fillna(False).astype(bool)]
    return frame.reset_index(drop=True)


def _kinds(kind: str | Iterable[str] | None) -> set[str] | None:
    if kind is None:
        return None
    return {kind} if isinstance(kind, str) else set(kind)


def _nullable_ints(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    for column in columns:
        if column in frame.columns:
            frame[column] = frame[column].astype("Int64")
    return frame


def _to_float(text: str) -> float:
    return float("nan") if text == "" else float(text)


class Store:
    """A TicketLab experiment store (the folder given to ``ticketlab --root``).

    ``Store()`` opens the store ``ticketlab`` uses without ``--root``: ``$TICKETLAB_ROOT``, else
    ``~/.local/share/ticketlab/experiments``. Nothing is cached: every call reads the files as they
    are now, so a store being written can be read again.
    """

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = os.path.abspath(os.path.expanduser(os.fspath(root) if root is not None else default_root()))
        if not os.path.isdir(self.root):
            raise FileNotFoundError(f"{self.root}: no such store (a folder written by `ticketlab ... --root`)")

    def __repr__(self) -> str:
        return f"Store({self.root!r})"

    # ---- experiments and their hyperparameters -------------------------------------------------

    def _experiments(self) -> list[tuple[str, str, str]]:
        found = []
        for name in sorted(os.listdir(self.root)):
            path = os.path.join(self.root, name)
            kind = kind_of(path)
            if kind is not None:
                found.append((name[: -len(".json")] if name.endswith(".json") else name, kind, path))
        return found

    def experiments(self, kind: str | Iterable[str] | None = None) -> pd.DataFrame:
        """One row per experiment, in name order: ``name`` (``lottery_<hash>``), ``kind`` (``train``,
        ``rewind_parent``, ``lottery``, ``instability``, ``rewind_sweep``), ``path`` (its folder, or a
        sweep's JSON file) and ``replicates`` (replicate folders; NA for a sweep)."""
        kinds = _kinds(kind)
        rows = [{"name": name, "kind": k, "path": path,
                 "replicates": pd.NA if os.path.isfile(path) else len(replicates(path))}
                for name, k, path in self._experiments() if kinds is None or k in kinds]
        frame = pd.DataFrame(rows, columns=["name", "kind", "path", "replicates"])
        return _nullable_ints(frame, ["replicates"])

    def _recipe(self, name: str, kind: str, path: str) -> dict[str, Any]:
        """The flattened recipe of an experiment, as TicketLab's reports and `list` read it."""
        try:
            if kind in ("train", "rewind_parent"):
                for _, folder in replicates(path):
                    hparams = _json.read_object(os.path.join(folder, "hparams.json"))
                    if hparams is not None:
                        return _recipe_groups(hparams)
                return {}
            if kind == "lottery":
                for _, folder in replicates(path):
                    lottery = _json.read_object(os.path.join(folder, "lottery.json"))
                    if lottery is not None and isinstance(lottery.get("lottery"), dict):
                        return _json.flatten(lottery["lottery"])
                return {}
            if kind == "instability":
                analysis = _json.read_object(os.path.join(path, "analysis.json"))
                if analysis is None:
                    return {}
                recipe = analysis.get("training") or analysis.get("lottery") or {}
                flat = _json.flatten(recipe)
                flat.update({f"analysis.{k}": v for k, v in analysis.items() if not isinstance(v, (dict, list))})
                return flat
            if kind == "rewind_sweep":
                sweep = _json.read_object(path) or {}
                rows = sweep.get("rows") or []
                recipe = sweep.get("training")
                if not isinstance(recipe, dict):
                    recipe = {}
                    folder = (rows[0].get("replicates") or [{}])[0].get("folder") if rows else None
                    if folder:
                        hparams = _json.read_object(os.path.join(self._rebase(folder), "copy_a", "hparams.json"))
                        recipe = _recipe_groups(hparams) if hparams else {}
                    flat = recipe
                else:
                    flat = _json.flatten(recipe)
                flat = dict(flat)
                flat.update(_json.flatten(sweep.get("interpolation") or {}, "interpolation."))
                flat["sweep.steps"] = ",".join(str(r.get("step")) for r in rows)
                flat["sweep.replicates"] = max((len(r.get("replicates") or []) for r in rows), default=0)
                if "training_run" in sweep:
                    flat["sweep.training_run"] = sweep["training_run"]
                return flat
        except (OSError, ValueError) as e:
            raise ValueError(f"{path}: unreadable experiment ({e})") from e
        return {}

    def hparams(self, kind: str | Iterable[str] | None = None, **filters) -> pd.DataFrame:
        """One row per experiment: ``experiment``, ``kind`` and its recipe as dotted columns
        (``dataset.dataset_name``, ``model.model_name``, ``training.lr``, ``pruning.pruning_fraction``,
        ``lottery.rewind_step``, ...); an instability analysis adds ``analysis.kind``,
        ``analysis.start_step`` or ``analysis.level``; a sweep ``sweep.steps`` and ``interpolation.*``.
        Lists are comma lists (``training.milestone_steps``: ``80ep,120ep``)."""
        kinds = _kinds(kind)
        rows = [{"experiment": name, "kind": k, **self._recipe(name, k, path)}
                for name, k, path in self._experiments() if kinds is None or k in kinds]
        frame = pd.DataFrame(rows)
        if frame.empty:
            frame = pd.DataFrame(columns=["experiment", "kind"])
        return _filter(frame, filters)

    # ---- training runs --------------------------------------------------------------------------

    def _run_folders(self, experiment_path: str) -> Iterable[str]:
        for folder, subfolders, files in os.walk(experiment_path):
            subfolders[:] = sorted(d for d in subfolders if d not in _SKIP_FOLDERS)
            if "hparams.json" in files and folder != experiment_path:
                yield folder

    def _run_row(self, experiment: str | None, kind: str | None, folder: str, recipe: dict[str, Any],
                 analysis_level: int | None = None) -> dict[str, Any]:
        relative = os.path.relpath(folder, self.root)
        parts = relative.split(os.sep)
        replicate = next((n for p in parts if (n := replicate_number(p)) is not None), None)
        level = next((int(m.group(1)) for p in parts if (m := _LEVEL.match(p))), None)
        name = parts[-1]
        if kind == "lottery":
            series = "ticket" if name == "main" else _json.branch_label(folder)
            branch = "ticket" if name == "main" else _json.branch_name(name)
        elif kind in ("train", "rewind_parent"):
            series, branch = "run", None
        else:
            series, branch = name, None
            if level is None:
                level = analysis_level
        row: dict[str, Any] = {
            "experiment": experiment, "kind": kind, "replicate": replicate, "level": level, "series": series,
            "branch": branch, "run": "/".join(parts), "path": folder, "state": run_state(folder),
        }
        hparams = _json.read_object(os.path.join(folder, "hparams.json")) or {}
        for key, value in _json.flatten(hparams, skip=("data_files",)).items():
            if key not in row:
                row[key] = value
        for key, value in recipe.items():
            row.setdefault(key, value)
        return row

    def runs(self, kind: str | Iterable[str] | None = None, **filters) -> pd.DataFrame:
        """One row per training run in the store (every folder holding hparams.json): the ticket and
        branches of each lottery level, training runs, instability copies and parents, rewind-sweep
        parents.

        Columns: ``experiment``, ``kind``, ``replicate``, ``level`` (a lottery level, or the level an
        instability analysis starts from), ``series`` (as results.csv labels the run: ``ticket``, a
        branch by its settings such as ``random_reinit`` or ``retrain (lr=0.05)``, ``run`` for a
        training run, ``copy_a``/``copy_b``/``parent`` in an instability analysis), ``branch``
        (``ticket`` or the branch's name, lottery runs only), ``run`` (the folder relative to the
        store, a unique id), ``path``, ``state`` (``finished``, ``diverged``, ``running``, ``partial``,
        ``new``), then the run's hparams.json flattened into dotted columns (``training.lr``,
        ``model.model_name``, ``branch.hparams.seed``, ...; ``data_files`` left out) and the
        experiment's recipe where the run's own file lacks it (``pruning.*``, ``lottery.*``).

        Filters pick rows by column: ``runs("lottery", level=2, branch=["ticket", "random_reinit"])``,
        ``runs(training__lr=0.1)`` (``__`` for ``.``), ``runs(state=lambda s: s != "finished")``."""
        kinds = _kinds(kind)
        rows = []
        for name, k, path in self._experiments():
            if k == "rewind_sweep" or (kinds is not None and k not in kinds):
                continue
            recipe = self._recipe(name, k, path)
            analysis_level = recipe.get("analysis.level") if k == "instability" else None
            for folder in self._run_folders(path):
                rows.append(self._run_row(name, k, folder, recipe, analysis_level))
        frame = pd.DataFrame(rows)
        if frame.empty:
            frame = pd.DataFrame(columns=RUN_COLUMNS)
        frame = _nullable_ints(frame, ["replicate", "level"])
        return _filter(frame, filters)

    def run(self, run: Any) -> pd.Series:
        """The row of :meth:`runs` for one run: a path, a run id (``lottery_.../replicate_1/level_2/main``)
        or a row of :meth:`runs`."""
        folder = self.run_path(run)
        relative = os.path.relpath(folder, self.root)
        experiment = relative.split(os.sep)[0] if not relative.startswith("..") else None
        path = os.path.join(self.root, experiment) if experiment else None
        kind = kind_of(path) if path else None
        recipe = self._recipe(experiment, kind, path) if kind else {}
        row = self._run_row(experiment if kind else None, kind, folder, recipe, recipe.get("analysis.level"))
        return pd.Series(row)

    def run_path(self, run: Any) -> str:
        """The folder of a run given as a path (absolute, or relative to the store), a run id or a row of :meth:`runs`."""
        if isinstance(run, pd.DataFrame):
            if len(run) != 1:
                raise ValueError(f"expected one run, got a DataFrame of {len(run)} rows")
            run = run.iloc[0]
        if isinstance(run, (pd.Series, dict)):
            run = run["path"]
        path = os.fspath(run)
        if not os.path.isabs(path) and not os.path.exists(path):
            path = os.path.join(self.root, path)
        if os.path.isfile(path):
            path = os.path.dirname(path)
        if not os.path.isfile(os.path.join(path, "hparams.json")):
            raise FileNotFoundError(f"{path}: not a run folder (no hparams.json)")
        return os.path.abspath(path)

    def _run_table(self, runs: Any) -> pd.DataFrame:
        if runs is None:
            return self.runs()
        if isinstance(runs, pd.DataFrame):
            if "path" not in runs.columns:
                raise KeyError("the runs need a 'path' column (as Store.runs() gives)")
            if all(c in runs.columns for c in METRIC_ID_COLUMNS):
                return runs
            return pd.DataFrame([self.run(p) for p in runs["path"]])
        if isinstance(runs, (pd.Series, dict, str, os.PathLike)):
            runs = [runs]
        return pd.DataFrame([self.run(r) for r in runs])

    # ---- results --------------------------------------------------------------------------------

    @staticmethod
    def results_path(name: str, kind: str, path: str) -> str:
        """Where an experiment's results.csv lives: in its folder, or beside a sweep's file."""
        if kind == "rewind_sweep":
            return path[: -len(".json")] + "_results.csv" if path.endswith(".json") else path + "_results.csv"
        return os.path.join(path, "results.csv")

    @staticmethod
    def read_results(path: str | os.PathLike) -> pd.DataFrame:
        """One results.csv as a typed DataFrame: ``replicate``, ``level``, ``start_step`` nullable
        integers, ``fraction_remaining`` and ``value`` floats (NaN where empty), the rest strings."""
        text = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame = pd.DataFrame({c: text[c] if c in text.columns else "" for c in (["label"] if "label" in text.columns else []) + RESULT_COLUMNS})
        for column in ("replicate", "level", "start_step"):
            frame[column] = pd.array([pd.NA if v == "" else int(v) for v in frame[column]], dtype="Int64")
        for column in ("fraction_remaining", "value"):
            frame[column] = frame[column].map(_to_float).astype("float64")
        return frame

    def results(self, kind: str | Iterable[str] | None = None, hparams: bool = True, **filters) -> pd.DataFrame:
        """Every row of every experiment's results.csv (``<experiment>/results.csv``,
        ``rewind_sweep_<hash>_results.csv``; report copies and study tables are not read twice), one
        number a row: ``experiment, kind, replicate, level, fraction_remaining, series, start_step,
        metric, value``. With ``hparams`` (the default), each experiment's recipe is joined on as
        dotted columns (:meth:`hparams`: ``training.lr``, ``model.model_name``, ...).

        ``results("lottery", metric="final_test_accuracy", series=["ticket", "random_reinit"])``."""
        kinds = _kinds(kind)
        frames = []
        for name, k, path in self._experiments():
            if kinds is not None and k not in kinds:
                continue
            csv = self.results_path(name, k, path)
            if os.path.isfile(csv):
                frames.append(self.read_results(csv))
        frames = [f for f in frames if not f.empty]
        frame = pd.concat(frames, ignore_index=True) if frames else self.read_results_empty()
        if hparams:
            recipes = self.hparams(kind)
            frame = frame.merge(recipes.drop(columns=["kind"]), on="experiment", how="left") if not recipes.empty else frame
        return _filter(frame, filters)

    @staticmethod
    def read_results_empty() -> pd.DataFrame:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in RESULT_COLUMNS})
        frame = _nullable_ints(frame, ["replicate", "level", "start_step"])
        frame["fraction_remaining"] = frame["fraction_remaining"].astype("float64")
        frame["value"] = frame["value"].astype("float64")
        return frame

    # ---- metrics --------------------------------------------------------------------------------

    def metrics(self, runs: Any = None, names: str | Iterable[str] | None = None, wide: bool = False) -> pd.DataFrame:
        """The metrics.csv of a set of runs as one tidy DataFrame: the run's identifiers
        (``experiment, kind, replicate, level, series, branch, run``) then ``name, step, value``.

        ``runs``: a DataFrame of :meth:`runs` (or any with a ``path`` column), a row, a run path or
        id, a list of those, or None for every run. ``names`` keeps only those metrics
        (``"test_accuracy"``). ``wide``: one row per run and step, a column per metric."""
        table = self._run_table(runs)
        frames = []
        for row in table.to_dict("records"):
            path = os.path.join(row["path"], "metrics.csv")
            if not os.path.isfile(path):
                continue
            metrics = read_metrics(path)
            for position, column in enumerate(METRIC_ID_COLUMNS):
                metrics.insert(position, column, row.get(column))
            frames.append(metrics)
        frames = [f for f in frames if not f.empty]
        if frames:
            frame = pd.concat(frames, ignore_index=True)
        else:
            frame = pd.DataFrame({c: pd.Series(dtype=object) for c in METRIC_ID_COLUMNS + ["name"]})
            frame["step"] = pd.Series(dtype="int64")
            frame["value"] = pd.Series(dtype="float64")
        frame = _nullable_ints(frame, ["replicate", "level"])
        if names is not None:
            frame = frame[frame["name"].isin([names] if isinstance(names, str) else list(names))].reset_index(drop=True)
        if wide:
            values = frame.pivot_table(index=["run", "step"], columns="name", values="value", aggfunc="last").reset_index()
            values.columns.name = None
            ids = frame[METRIC_ID_COLUMNS].drop_duplicates("run")
            frame = ids.merge(values, on="run")
        return frame

    def summaries(self, runs: Any = None) -> pd.DataFrame:
        """The summary.json of each finished (or diverged) run: identifiers, then its fields
        (``final_test_accuracy``, ``best_test_accuracy``, ``iterations``, ``seconds_per_epoch``, ...)."""
        table = self._run_table(runs)
        rows = []
        for row in table.to_dict("records"):
            summary = _json.read_object(os.path.join(row["path"], "summary.json"))
            if summary is not None:
                rows.append({**{c: row.get(c) for c in METRIC_ID_COLUMNS}, **_json.flatten(summary)})
        frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=METRIC_ID_COLUMNS)
        return _nullable_ints(frame, ["replicate", "level"])

    # ---- weights and masks ----------------------------------------------------------------------

    def models(self, run: Any) -> pd.DataFrame:
        """The saved weights of a run: ``label`` (``ep0_it0``, ``final``), ``epoch``,
        ``iteration_in_epoch``, ``iteration`` (when summary.json gives the epoch length) and ``path``."""
        folder = self.run_path(run)
        per_epoch = self._iterations_per_epoch(folder)
        rows = []
        models = os.path.join(folder, "models")
        for name in sorted(os.listdir(models)) if os.path.isdir(models) else []:
            if not (name.startswith("model_") and name.endswith(".bin")):
                continue
            label = name[len("model_"):-len(".bin")]
            match = _STEP_LABEL.match(label)
            epoch, within = (int(match.group(1)), int(match.group(2))) if match else (None, None)
            iteration = epoch * per_epoch + within if match and per_epoch else None
            if label == "final":
                summary = _json.read_object(os.path.join(folder, "summary.json")) or {}
                iteration = summary.get("iterations")
            rows.append({"label": label, "epoch": epoch, "iteration_in_epoch": within, "iteration": iteration,
                         "path": os.path.join(models, name)})
        frame = pd.DataFrame(rows, columns=["label", "epoch", "iteration_in_epoch", "iteration", "path"])
        frame = _nullable_ints(frame, ["epoch", "iteration_in_epoch", "iteration"])
        return frame.sort_values(["iteration", "label"], na_position="last").reset_index(drop=True)

    @staticmethod
    def _iterations_per_epoch(folder: str) -> int | None:
        summary = _json.read_object(os.path.join(folder, "summary.json"))
        return summary.get("iterations_per_epoch") if summary else None

    def model_path(self, run: Any, step: Any = "final") -> str:
        """The weights file of a run at a step: ``"final"``, a label (``"ep2_it0"``), a step as the
        command line writes it (``"2ep"``, ``"500it"``, ``"1ep100it"``) or an iteration (int)."""
        folder = self.run_path(run)
        if step is None or step == "final":
            label = "final"
        elif isinstance(step, str) and _STEP_LABEL.match(step):
            label = step
        else:
            per_epoch = self._iterations_per_epoch(folder)
            if isinstance(step, (int, np.integer)) and not isinstance(step, bool):
                iteration = int(step)
            elif isinstance(step, str) and (match := _STEP_SPEC.match(step)) and (match.group(1) or match.group(2)):
                if per_epoch is None and match.group(1):
                    raise ValueError(f"{folder}: the epoch length is unknown (no summary.json); give the step as a label such as ep2_it0")
                iteration = int(match.group(1) or 0) * (per_epoch or 0) + int(match.group(2) or 0)
            else:
                raise ValueError(f"'{step}' is not a step: give 'final', a label such as 'ep2_it0', '2ep', '500it' or an iteration")
            if per_epoch is None:
                raise ValueError(f"{folder}: the epoch length is unknown (no summary.json); give the step as a label such as ep0_it{iteration}")
            label = f"ep{iteration // per_epoch}_it{iteration % per_epoch}"
        path = os.path.join(folder, "models", f"model_{label}.bin")
        if not os.path.isfile(path):
            saved = ", ".join(self.models(folder)["label"]) or "none"
            raise FileNotFoundError(f"{path}: no weights saved at {label} (saved: {saved}; `--save-steps` keeps more)")
        return path

    def weights(self, run: Any, step: Any = "final", *, torch: bool = False, verify: bool = True) -> dict[str, Any]:
        """A run's weights (its state dict: parameters and buffers) at a step (see :meth:`model_path`;
        the final weights by default) as ``{name: numpy.ndarray}``, or torch tensors with
        ``torch=True``. The file's checksum is verified (:class:`ticketlab.ChecksumError` when not)."""
        return read_tensors(self.model_path(run, step), verify=verify, torch=torch)

    def mask_path(self, run: Any) -> str:
        """The mask a lottery run trained with: its own ``mask.bin`` (a ticket, a random_prune
        branch), else its level's ticket mask (``level_L/main/mask.bin``)."""
        folder = self.run_path(run)
        own = os.path.join(folder, "mask.bin")
        if os.path.isfile(own):
            return own
        level_main = os.path.join(os.path.dirname(folder), "main", "mask.bin")
        if _LEVEL.match(os.path.basename(os.path.dirname(folder))) and os.path.isfile(level_main):
            return level_main
        raise FileNotFoundError(f"{folder}: no mask (masks belong to lottery levels: level_L/main/mask.bin)")

    def mask(self, run: Any, *, torch: bool = False, verify: bool = True) -> dict[str, Any]:
        """The mask of a lottery run (see :meth:`mask_path`): ``{tensor name: float32 0/1 array}``, one
        per prunable weight tensor, checksum verified and checked against mask.json's counts, as
        TicketLab checks them."""
        path = self.mask_path(run)
        parsed = read_tensor_file(path, verify=verify)
        summary = _json.read_object(os.path.join(os.path.dirname(path), "mask.json"))
        if verify and summary is not None:
            for name, entry in (summary.get("tensors") or {}).items():
                if name not in parsed.tensors:
                    raise TensorFileError(f"{path}: mask.json names '{name}', which mask.bin lacks")
                remaining, total = int(np.count_nonzero(parsed.tensors[name])), int(parsed.tensors[name].size)
                if remaining != entry.get("remaining") or total != entry.get("total"):
                    raise TensorFileError(f"{path}: '{name}' keeps {remaining} of {total} weights, mask.json says "
                                          f"{entry.get('remaining')} of {entry.get('total')}")
        if torch:
            return {name: to_torch(array, parsed.dtypes[name]) for name, array in parsed.tensors.items()}
        return dict(parsed.tensors)

    def mask_summary(self, run: Any) -> pd.DataFrame:
        """mask.json of a run's mask per tensor: ``tensor, shape, total, remaining, sparsity``."""
        summary = _json.read_object(os.path.join(os.path.dirname(self.mask_path(run)), "mask.json")) or {}
        rows = [{"tensor": name, "shape": tuple(e.get("shape") or ()), "total": e.get("total"),
                 "remaining": e.get("remaining"), "sparsity": e.get("sparsity")}
                for name, e in (summary.get("tensors") or {}).items()]
        return pd.DataFrame(rows, columns=["tensor", "shape", "total", "remaining", "sparsity"])

    # ---- analyses stored as JSON ----------------------------------------------------------------

    def _rebase(self, path: str) -> str:
        """A path written into the store's JSON (absolute, on the machine that wrote it), moved to
        where this store is: the part from the experiment's folder on, joined to this root."""
        if path and os.path.exists(path):
            return path
        parts = os.path.normpath(path).split(os.sep)
        for i, part in enumerate(parts):
            if any(part.startswith(k + "_") for k, as_file in KINDS if not as_file) and os.path.isdir(os.path.join(self.root, part)):
                return os.path.join(self.root, *parts[i:])
        return path

    def _lottery_replicates(self, experiment: str | None = None):
        for name, kind, path in self._experiments():
            if kind == "lottery" and (experiment is None or name == experiment):
                for replicate, folder in replicates(path):
                    yield name, replicate, folder

    def _comparison_files(self, experiment: str | None):
        for name, replicate, folder in self._lottery_replicates(experiment):
            for entry in sorted(os.listdir(folder)):
                analysis_folder = os.path.join(folder, entry)
                if not (entry.startswith("compare_") and os.path.isdir(analysis_folder)):
                    continue
                for file in sorted(os.listdir(analysis_folder)):
                    if _LEVEL.match(file[: -len(".json")] if file.endswith(".json") else ""):
                        data = _json.read_object(os.path.join(analysis_folder, file))
                        # A registered analysis stores {"analysis", "hparams", ..., "result"}; comparisons
                        # written before compare was one are the result itself.
                        if isinstance(data, dict) and isinstance(data.get("result"), dict):
                            data = data["result"]
                        if data is not None and "pairs" in data:  # earlier ticket-vs-dense comparisons lack pairs
                            yield name, replicate, entry, os.path.join(analysis_folder, file), data

    def comparisons(self, experiment: str | None = None, **filters) -> pd.DataFrame:
        """Ticket vs pruning solution (``ticketlab compare``), from ``compare_<hash>/level_L.json``:
        one row per replicate, comparison, level and pair (``T-P``, ``R-P``, ``T-T2``, ``T-D``,
        ``R-D``). Columns: ``experiment, replicate, comparison`` (its folder), ``level,
        fraction_remaining, pair, a, b`` (the roles: T ticket, P pruning solution, R random
        re-initialization, T2 the ticket retrained, D dense), ``a_folder, b_folder`` (the runs),
        the level's ``pruning_solution_error_before_finetuning`` and ``..._after_finetuning``, then the
        pair's measures flattened (``start.l2_distance``, ``end.normalized_l2_distance``,
        ``end.cosine_similarity``, ``prediction_disagreement``, ``ensemble_test_accuracy``,
        ``curve.error_barrier``, ...). The curves are :meth:`comparison_curves`."""
        rows = []
        for name, replicate, comparison, path, data in self._comparison_files(experiment):
            folders = {n.get("role"): self._rebase(n.get("folder", "")) for n in data.get("networks") or []}
            for pair in data.get("pairs") or []:
                a, _, b = str(pair.get("name")).partition("-")
                measures = {k: v for k, v in pair.items() if k != "name"}
                measures["curve"] = {k: v for k, v in (pair.get("curve") or {}).items() if k != "points"}
                rows.append({
                    "experiment": name, "replicate": replicate, "comparison": comparison, "level": data.get("level"),
                    "fraction_remaining": data.get("density"), "pair": pair.get("name"), "a": a, "b": b,
                    "a_folder": folders.get(a), "b_folder": folders.get(b),
                    "pruning_solution_error_before_finetuning": data.get("pruning_solution_error_before_finetuning"),
                    "pruning_solution_error_after_finetuning": data.get("pruning_solution_error_after_finetuning"),
                    **_json.flatten(measures), "path": path,
                })
        frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=["experiment", "replicate", "comparison", "level", "fraction_remaining", "pair", "a", "b"])
        return _filter(_nullable_ints(frame, ["replicate", "level"]), filters)

    def comparison_curves(self, experiment: str | None = None, **filters) -> pd.DataFrame:
        """The interpolation curves of :meth:`comparisons`: one row per pair and point, ``experiment,
        replicate, comparison, level, fraction_remaining, pair, alpha, test_error, test_loss,
        train_error, train_loss``."""
        rows = []
        for name, replicate, comparison, _, data in self._comparison_files(experiment):
            for pair in data.get("pairs") or []:
                for point in (pair.get("curve") or {}).get("points") or []:
                    rows.append({"experiment": name, "replicate": replicate, "comparison": comparison,
                                 "level": data.get("level"), "fraction_remaining": data.get("density"),
                                 "pair": pair.get("name"), **{c: point.get(c) for c in CURVE_COLUMNS}})
        columns = ["experiment", "replicate", "comparison", "level", "fraction_remaining", "pair"] + CURVE_COLUMNS
        frame = pd.DataFrame(rows, columns=columns)
        for c in CURVE_COLUMNS:
            frame[c] = frame[c].astype("float64")
        return _filter(_nullable_ints(frame, ["replicate", "level"]), filters)

    def _interpolation_records(self):
        for name, kind, path in self._experiments():
            if kind == "instability":
                analysis = _json.read_object(os.path.join(path, "analysis.json")) or {}
                for replicate, folder in replicates(path):
                    for file in sorted(os.listdir(folder)):
                        if file.startswith("interpolation_") and file.endswith(".json"):
                            data = _json.read_object(os.path.join(folder, file)) or {}
                            yield {"experiment": name, "kind": kind, "replicate": replicate, "level": analysis.get("level"),
                                   "start_step": analysis.get("start_step"), "interpolation": file[: -len(".json")],
                                   "path": os.path.join(folder, file)}, data
            elif kind == "rewind_sweep":
                sweep = _json.read_object(path) or {}
                for row in sweep.get("rows") or []:
                    for data in row.get("replicates") or []:
                        yield {"experiment": name, "kind": kind, "replicate": data.get("replicate"), "level": None,
                               "start_step": row.get("step"), "interpolation": None, "path": path}, data

    def interpolations(self, experiment: str | None = None, curves: bool = True, **filters) -> pd.DataFrame:
        """Linear interpolations between two copies: instability analyses
        (``replicate_N/interpolation_<hash>.json``, every grid stored) and rewind sweeps (per start
        step). With ``curves`` (the default), one row per point: ``experiment, kind, replicate,
        level, start_step`` (as given: ``0it``, ``2ep``), ``interpolation``, ``path``, ``alpha,
        test_error, test_loss, train_error, train_loss``. With ``curves=False``, one row per pair of
        copies: ``endpoint_a_test_accuracy``, ``endpoint_b_test_accuracy`` and the curve's
        ``error_barrier``, ``error_excess_over_chord``, ``loss_barrier``, ``train_*`` (as stored, not rounded)."""
        rows = []
        for ids, data in self._interpolation_records():
            if experiment is not None and ids["experiment"] != experiment:
                continue
            curve = data.get("curve") or {}
            if curves:
                rows.extend({**ids, **{c: p.get(c) for c in CURVE_COLUMNS}} for p in curve.get("points") or [])
            else:
                rows.append({**ids, "endpoint_a_test_accuracy": data.get("endpoint_a_test_accuracy"),
                             "endpoint_b_test_accuracy": data.get("endpoint_b_test_accuracy"),
                             **{k: v for k, v in curve.items() if k != "points"},
                             **_json.flatten(data.get("interpolation") or {}, "interpolation.")})
        columns = ["experiment", "kind", "replicate", "level", "start_step", "interpolation", "path"]
        frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=columns + (CURVE_COLUMNS if curves else []))
        if curves:
            for c in CURVE_COLUMNS:
                frame[c] = frame[c].astype("float64")
        return _filter(_nullable_ints(frame, ["replicate", "level"]), filters)

    def level_analyses(self, name: str | None = None, experiment: str | None = None, **filters) -> pd.DataFrame:
        """Results of level analyses (``ticketlab analyze NAME``), from
        ``replicate_N/<name>_<hash>/level_L.json``: ``experiment, replicate, analysis, settings`` (its
        folder), ``level``, the analysis' hyperparameters as ``hparams.*``, then its result: a result
        holding one list of records (layer_density's ``tensors``) gives one row per record (its fields
        as columns); other fields become columns as they are (nested ones dotted)."""
        rows = []
        for experiment_name, replicate, folder in self._lottery_replicates(experiment):
            for entry in sorted(os.listdir(folder)):
                match = _HASHED.match(entry)
                analysis_folder = os.path.join(folder, entry)
                if not match or match.group(1) == "compare" or not os.path.isdir(analysis_folder):
                    continue
                if name is not None and match.group(1) != name:
                    continue
                for file in sorted(os.listdir(analysis_folder)):
                    if not (file.endswith(".json") and _LEVEL.match(file[: -len(".json")])):
                        continue
                    data = _json.read_object(os.path.join(analysis_folder, file)) or {}
                    if "analysis" not in data or "result" not in data:
                        continue
                    ids = {"experiment": experiment_name, "replicate": data.get("replicate", replicate),
                           "analysis": data.get("analysis"), "settings": entry, "level": data.get("level"),
                           **_json.flatten(data.get("hparams") or {}, "hparams.")}
                    result = data.get("result")
                    records = [k for k, v in result.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)] \
                        if isinstance(result, dict) else []
                    if len(records) == 1:
                        rest = _json.flatten({k: v for k, v in result.items() if k != records[0]})
                        rows.extend({**ids, **rest, **_json.flatten(record)} for record in result[records[0]])
                    else:
                        rows.append({**ids, **(_json.flatten(result) if isinstance(result, dict) else {"result": result})})
        frame = pd.DataFrame(rows) if rows else pd.DataFrame(columns=["experiment", "replicate", "analysis", "settings", "level"])
        return _filter(_nullable_ints(frame, ["replicate", "level"]), filters)

    def layer_density(self, experiment: str | None = None, **filters) -> pd.DataFrame:
        """``ticketlab analyze layer_density``: one row per replicate, level and tensor with
        ``tensor, total, remaining, density`` (and with ``--magnitudes``
        ``survivor_mean_abs_at_rewind``, ``pruned_mean_abs_at_rewind``)."""
        return self.level_analyses("layer_density", experiment, **filters)


def _recipe_groups(hparams: dict) -> dict[str, Any]:
    """The recipe of a training run's hparams.json: its groups (dataset, model, training), flattened."""
    return _json.flatten({k: v for k, v in hparams.items() if isinstance(v, dict) and k != "branch"})
