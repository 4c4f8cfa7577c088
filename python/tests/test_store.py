"""The package against a real store made by the ticketlab CLI (TICKETLAB_STORE; see conftest.py).

Each test checks what it reads against another file of the store written independently by
TicketLab (results.csv against summary.json and metrics.csv, weights against masks, stored barriers
against their curves), so a misread column or tensor shows. Tests of kinds the store lacks skip.
"""

import os
import shutil

import numpy as np
import pandas as pd
import pytest

import ticketlab
from ticketlab.store import RESULT_COLUMNS, RUN_COLUMNS

from conftest import derived


def need(frame, what):
    """The frame; a test of something the store lacks skips (fails with TICKETLAB_REQUIRE_STORE=1,
    as in scripts/python-smoke.sh, whose store has every kind)."""
    if frame.empty:
        (pytest.fail if os.environ.get("TICKETLAB_REQUIRE_STORE") == "1" else pytest.skip)(f"the store has no {what}")
    return frame


def test_experiments_are_the_store_entries(store):
    experiments = store.experiments()
    assert list(experiments.columns[:3]) == ["name", "kind", "path"]
    entries = {e for e in os.listdir(store.root) if ticketlab.kind_of(os.path.join(store.root, e))}
    assert {os.path.basename(p) for p in experiments.path} == entries
    assert set(experiments.kind) <= {"train", "rewind_parent", "lottery", "instability", "rewind_sweep"}
    assert (experiments.name == experiments.path.map(lambda p: os.path.basename(p).removesuffix(".json"))).all()


def test_one_run_per_folder_holding_hparams_json(store):
    runs = store.runs()
    folders = {os.path.abspath(d) for d, _, files in os.walk(store.root) if "hparams.json" in files}
    assert set(runs.path) == folders and len(runs) == len(folders)
    assert runs.run.is_unique
    assert list(runs.columns[: len(RUN_COLUMNS)]) == RUN_COLUMNS
    assert runs["training.lr"].notna().all() and runs["model.model_name"].notna().all()
    assert runs.replicate.dtype == "Int64" and runs.level.dtype == "Int64"
    assert set(runs.state) == {"finished"}, "the smoke store holds finished runs only"
    lottery = runs[runs.kind == "lottery"]
    assert lottery["pruning.pruning_fraction"].notna().all(), "lottery runs carry the experiment's pruning recipe"
    assert (lottery.branch == "ticket").sum() == lottery.run.str.endswith("/main").sum()


def test_a_run_by_id_path_or_row(store):
    runs = store.runs()
    row = runs.iloc[len(runs) // 2]
    for given in (row.run, row.path, row, runs.iloc[[len(runs) // 2]]):
        assert store.run(given)[RUN_COLUMNS].equals(row[RUN_COLUMNS])


def test_results_are_every_results_csv_row(store):
    files = [store.results_path(e.name, e.kind, e.path) for e in store.experiments().itertuples()]
    lines = sum(len(open(f).read().splitlines()) - 1 for f in files if os.path.isfile(f))
    bare = store.results(hparams=False)
    assert list(bare.columns) == RESULT_COLUMNS and len(bare) == lines > 0
    assert {c: str(t) for c, t in bare.dtypes.items()} == {
        "experiment": "object", "kind": "object", "replicate": "Int64", "level": "Int64", "fraction_remaining": "float64",
        "series": "object", "start_step": "Int64", "metric": "object", "value": "float64"}
    joined = store.results()
    assert len(joined) == len(bare) and list(joined.columns[:9]) == RESULT_COLUMNS
    assert joined["training.lr"].notna().all() and joined["model.model_name"].notna().all()
    hparams = store.hparams()
    assert hparams.experiment.is_unique and set(hparams.experiment) == set(store.experiments().name)


def test_result_filters(store):
    results = store.results()
    tickets = store.results("lottery", metric="final_test_accuracy", series="ticket")
    expected = results[(results.kind == "lottery") & (results.metric == "final_test_accuracy") & (results.series == "ticket")]
    assert len(need(tickets, "lottery run")) == len(expected)
    assert len(store.results(metric=["final_test_accuracy", "best_test_accuracy"])) == results.metric.isin(
        ["final_test_accuracy", "best_test_accuracy"]).sum()
    lr = results["training.lr"].iloc[0]
    assert len(store.results(training__lr=lr)) == (results["training.lr"] == lr).sum()
    assert len(store.results(level=None)) == results.level.isna().sum()


def test_run_series_are_those_of_results_csv(store):
    runs, results = store.runs("lottery"), store.results("lottery", metric="final_test_accuracy")
    key = ["experiment", "replicate", "level", "series"]
    from_runs = set(map(tuple, need(runs, "lottery run")[key].astype(str).values))
    assert from_runs == set(map(tuple, results[key].astype(str).values))


def test_results_agree_with_summaries_and_metrics(store):
    runs = store.runs(["lottery", "train"])
    summaries = store.summaries(runs)
    results = store.results(["lottery", "train"], metric="final_test_accuracy")
    key = ["experiment", "replicate", "level", "series"]
    merged = summaries.merge(results, on=key, validate="one_to_one")
    assert len(merged) == len(results) > 0
    assert (merged.final_test_accuracy == merged.value).all()
    last = store.metrics(runs, names="test_accuracy").sort_values("step").groupby("run").tail(1)
    at_end = last.merge(summaries, on="run")
    assert len(at_end) == len(summaries)
    assert (at_end.step == at_end.iterations).all() and (at_end.value == at_end.final_test_accuracy).all()


def test_metrics_are_tidy(store):
    runs = store.runs()
    metrics = store.metrics(runs)
    assert list(metrics.columns) == ["experiment", "kind", "replicate", "level", "series", "branch", "run", "name", "step", "value"]
    assert metrics.step.dtype == "int64" and metrics.value.dtype == "float64"
    assert set(metrics.run) == set(runs.run[[os.path.isfile(os.path.join(p, "metrics.csv")) for p in runs.path]])
    for run in runs.path.iloc[:3]:
        raw = pd.read_csv(os.path.join(run, "metrics.csv"))
        assert len(metrics[metrics.run == store.run(run).run]) == len(raw)
    wide = store.metrics(runs.iloc[:2], wide=True)
    assert {"run", "step", "test_accuracy", "test_loss"} <= set(wide.columns)
    assert len(store.metrics(runs.path.iloc[0])) == len(metrics[metrics.run == runs.run.iloc[0]])


def tensor_files(store):
    return [os.path.join(d, f) for d, _, files in os.walk(store.root) for f in files if f.endswith(".bin") and f != "checkpoint.bin"]


def test_every_tensor_file_of_the_store_verifies(store):
    files = tensor_files(store)
    assert files
    for path in files:
        parsed = ticketlab.read_tensor_file(path)
        assert parsed.verified, f"{path}: no TicketLab checksum"
        assert parsed.metadata.get("writer") == "TicketLab"


def test_a_damaged_copy_is_refused(store, tmp_path):
    source = tensor_files(store)[0]
    size = os.path.getsize(source)
    for offset in (size - 1, size // 2):
        copy = tmp_path / "model.bin"
        shutil.copyfile(source, copy)
        with open(copy, "r+b") as f:
            f.seek(offset)
            byte = f.read(1)[0]
            f.seek(offset)
            f.write(bytes([byte ^ 0x10]))
        with pytest.raises(ticketlab.TensorFileError):
            ticketlab.read_tensors(copy)
    shutil.copyfile(source, tmp_path / "short.bin")
    os.truncate(tmp_path / "short.bin", size - 4)
    with pytest.raises(ticketlab.TensorFileError, match="truncated"):
        ticketlab.read_tensors(tmp_path / "short.bin")


def test_weights_and_masks_of_a_ticket(store):
    tickets = need(store.runs("lottery", branch="ticket", level=lambda l: l > 0), "pruned lottery level")
    results = store.results("lottery", metric="final_test_accuracy", series="ticket", hparams=False)
    for run in tickets.to_dict("records"):
        run = pd.Series(run)
        mask = store.mask(run.path)
        final = store.weights(run.path)
        assert set(mask) <= set(final)
        for name, m in mask.items():
            assert m.shape == final[name].shape and m.dtype == np.float32 and set(np.unique(m)) <= {0.0, 1.0}
            assert not final[name][m == 0].any(), "pruned weights stay zero through training"
        fraction = sum(int(m.sum()) for m in mask.values()) / sum(m.size for m in mask.values())
        row = results[(results.experiment == run.experiment) & (results.replicate == run.replicate) & (results.level == run.level)]
        assert fraction == row.fraction_remaining.iloc[0]
        summary = store.mask_summary(run.path)
        assert summary.remaining.sum() == sum(int(m.sum()) for m in mask.values())
        if run["lottery.rewind_step"] == "0it":
            # rewinding to initialization: the ticket starts from level 0's initialization, masked
            dense = store.run_path(run.path.replace(f"level_{run.level}", "level_0"))
            start, init = store.weights(run.path, "ep0_it0"), store.weights(dense, 0)
            for name in start:
                expected = init[name] * mask[name] if name in mask else init[name]
                np.testing.assert_array_equal(start[name], expected)


def test_branches_train_on_their_levels_mask(store):
    branches = need(store.runs("lottery", branch="random_reinit"), "random_reinit branch")
    for run in branches.itertuples():
        assert store.mask_path(run.path).endswith(os.path.join(f"level_{run.level}", "main", "mask.bin"))
        final, mask = store.weights(run.path), store.mask(run.path)
        assert all(not final[n][m == 0].any() for n, m in mask.items())


def test_steps_name_the_same_weights(store):
    run = need(store.runs("lottery", branch="ticket", level=0), "lottery run").path.iloc[0]  # saved at step 0 for rewinding
    models = store.models(run)
    assert {"ep0_it0", "final"} <= set(models.label)
    a, b, c = store.weights(run, "ep0_it0"), store.weights(run, 0), store.weights(run, "0it")
    assert all(np.array_equal(a[k], b[k]) and np.array_equal(a[k], c[k]) for k in a)
    with pytest.raises(FileNotFoundError, match="saved: "):
        store.weights(run, "ep99_it0")


def test_torch_weights(store):
    torch = pytest.importorskip("torch")
    run = store.runs().path.iloc[0]
    as_numpy, as_torch = store.weights(run), store.weights(run, torch=True)
    assert all(isinstance(t, torch.Tensor) and np.array_equal(t.numpy(), as_numpy[k]) for k, t in as_torch.items())


def test_comparisons_agree_with_results(store):
    comparisons = need(store.comparisons(), "comparison (ticketlab compare)")
    assert {"T-P", "R-P", "T-T2", "T-D"} <= set(comparisons.pair)
    results = store.results("lottery", hparams=False)
    for row in comparisons.to_dict("records"):
        row = pd.Series(row)
        stored = results[(results.experiment == row.experiment) & (results.replicate == row.replicate)
                         & (results.level == row.level) & (results.series == row.pair) & (results.metric == "error_barrier")]
        assert stored.value.iloc[0] == derived(row["curve.error_barrier"])
        assert stored.fraction_remaining.iloc[0] == row.fraction_remaining
        assert os.path.isdir(row.a_folder) and os.path.isdir(row.b_folder)
    curves = store.comparison_curves()
    assert curves.groupby(["experiment", "replicate", "comparison", "level", "pair"]).alpha.agg(["min", "max"]).eq([0.0, 1.0]).all().all()
    barrier = curves.sort_values("alpha").groupby(["experiment", "replicate", "comparison", "level", "pair"]).test_error.agg(
        lambda e: e.max() - (e.iloc[0] + e.iloc[-1]) / 2).rename("recomputed").reset_index()
    checked = comparisons.merge(barrier, on=["experiment", "replicate", "comparison", "level", "pair"])
    assert len(checked) == len(comparisons)
    np.testing.assert_allclose(checked["curve.error_barrier"], checked.recomputed, atol=1e-12)


def test_interpolations_agree_with_results(store):
    pairs = need(store.interpolations(curves=False), "instability analysis or rewind sweep")
    key = ["experiment", "replicate", "start_step", "path"]
    points = store.interpolations().sort_values("alpha")
    recomputed = points.groupby(key, dropna=False).test_error.agg(
        lambda e: e.max() - (e.iloc[0] + e.iloc[-1]) / 2).rename("recomputed").reset_index()
    checked = pairs.merge(recomputed, on=key, validate="one_to_one")
    assert len(checked) == len(pairs)
    np.testing.assert_allclose(checked.error_barrier, checked.recomputed, atol=1e-12)
    results = store.results(["instability", "rewind_sweep"], metric="error_barrier", hparams=False)
    for experiment, stored in results.groupby("experiment"):
        mine = pairs[pairs.experiment == experiment]
        assert mine.groupby("replicate").size().max() == 1 or mine.kind.iloc[0] == "rewind_sweep", \
            "one interpolation grid per replicate in the smoke store (results.csv keeps the latest only)"
        assert sorted(stored.value) == sorted(mine.error_barrier.map(derived))


def test_layer_density_agrees_with_masks(store):
    density = need(store.layer_density(), "layer_density analysis")
    assert {"tensor", "total", "remaining", "density", "level", "replicate"} <= set(density.columns)
    for (experiment, replicate, level), rows in density.groupby(["experiment", "replicate", "level"]):
        run = os.path.join(store.root, experiment, f"replicate_{replicate}", f"level_{level}", "main")
        summary = store.mask_summary(run).set_index("tensor")
        assert (rows.set_index("tensor").remaining == summary.remaining.loc[rows.tensor]).all()
