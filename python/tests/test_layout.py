"""Store rules on small folders made here: kinds, replicate numbers, run states, locks, branch labels."""

import fcntl
import json
import os

import pytest

import ticketlab
from ticketlab import _json
from ticketlab.store import replicate_number


def dump(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))


def test_kinds_of_store_entries(tmp_path):
    for name in ["train_aa", "rewind_parent_bb", "lottery_cc", "instability_dd", "studies", "lottery"]:
        (tmp_path / name).mkdir()
    (tmp_path / "rewind_sweep_ee.json").write_text("{}")
    (tmp_path / "rewind_sweep_ee_results.csv").write_text("")
    (tmp_path / "train_ff.json").write_text("{}")  # a file named like a folder kind: not an experiment
    kinds = {name: ticketlab.kind_of(str(tmp_path / name)) for name in os.listdir(tmp_path)}
    assert kinds == {"train_aa": "train", "rewind_parent_bb": "rewind_parent", "lottery_cc": "lottery",
                     "instability_dd": "instability", "rewind_sweep_ee.json": "rewind_sweep", "studies": None,
                     "lottery": None, "rewind_sweep_ee_results.csv": None, "train_ff.json": None}
    store = ticketlab.Store(tmp_path)
    assert store.experiments().name.tolist() == ["instability_dd", "lottery_cc", "rewind_parent_bb", "rewind_sweep_ee", "train_aa"]


@pytest.mark.parametrize("name, number", [("replicate_1", 1), ("replicate_12", 12), ("replicate_0", None),
                                          ("replicate_-1", None), ("replicate_+1", None), ("replicate_x", None), ("level_1", None)])
def test_replicate_numbers(name, number):
    assert replicate_number(name) == number


def test_run_states(tmp_path):
    run = tmp_path / "train_aa" / "replicate_1"
    dump(run / "hparams.json", {"training": {"lr": 0.1}})
    assert ticketlab.run_state(str(run)) == "new"
    (run / "metrics.csv").write_text("name,step,value\n")
    assert ticketlab.run_state(str(run)) == "partial"
    with open(run / "run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as TicketLab holds it while writing the run
        assert ticketlab.lock_held(str(run)) and ticketlab.run_state(str(run)) == "running"
    assert not ticketlab.lock_held(str(run))  # a lock file left behind by a dead process is not held
    dump(run / "summary.json", {"final_test_accuracy": 0.5, "diverged_at_step": None})
    assert ticketlab.run_state(str(run)) == "finished"
    dump(run / "summary.json", {"final_test_accuracy": None, "diverged_at_step": 12})
    assert ticketlab.run_state(str(run)) == "diverged"


def test_branch_labels_name_what_differs(tmp_path):
    level = tmp_path / "lottery_aa" / "replicate_1" / "level_1"
    dump(level / "main" / "hparams.json", {"training": {"lr": 0.1, "training_steps": "2ep"}})
    dump(level / "random_reinit_1111111111111111" / "hparams.json", {"branch": {"hparams": {"seed": 1}}})
    dump(level / "random_reinit_2222222222222222" / "hparams.json", {"branch": {"hparams": {"seed": 7}}})
    dump(level / "random_prune_3333333333333333" / "hparams.json", {"branch": {"hparams": {"seed": 1, "prune_scope": "global"}}})
    dump(level / "pruning_solution_4444444444444444" / "hparams.json", {"branch": {"hparams": {"finetune_steps": "2ep", "seed": 1.0}}})
    (level / "retrain_5555555555555555").mkdir()
    (level / "retrain_5555555555555555" / "hparams.json").write_text(
        '{"branch": {"hparams": {"training": {"lr": 1E-05, "training_steps": "2ep", "momentum": 0.9}}}}')
    dump(level / "new_branch_6666666666666666" / "hparams.json", {"branch": {"hparams": {"x": 1}}})
    dump(level / "retrain_7777777777777777" / "hparams.json", {"training": {}})  # no branch settings stored
    label = lambda name: _json.branch_label(str(level / name))
    assert label("random_reinit_1111111111111111") == "random_reinit"
    assert label("random_reinit_2222222222222222") == "random_reinit (seed=7)"
    assert label("random_prune_3333333333333333") == "random_prune (prune_scope=global)"
    assert label("pruning_solution_4444444444444444") == "pruning_solution"
    assert label("retrain_5555555555555555") == "retrain (lr=1E-05, momentum=0.9)"
    assert label("new_branch_6666666666666666") == "new_branch_6666666666666666"
    assert label("retrain_7777777777777777") == "retrain_7777777777777777"
    assert [_json.branch_of(s) for s in ["ticket", "retrain (lr=1E-05)", "random_prune_44136fa3", "new_branch_6666666666666666", "my_branch"]] \
        == ["ticket", "retrain", "random_prune", "new_branch", "my_branch"]


def test_flattened_hyperparameters():
    flat = _json.flatten({"training": {"lr": 0.1, "milestone_steps": ["80ep", "120ep"], "none": []}, "replicate": 1,
                          "data_files": [{"path": "x"}]}, skip=())
    assert flat == {"training.lr": 0.1, "training.milestone_steps": "80ep,120ep", "training.none": "", "replicate": 1,
                    "data_files": '[{"path":"x"}]'}


def test_runs_and_filters_on_a_made_up_lottery(tmp_path):
    replicate = tmp_path / "lottery_aa" / "replicate_1"
    dump(replicate / "lottery.json", {"lottery_run": "lottery_aa", "lottery": {"training": {"lr": 0.1}, "pruning": {"pruning_fraction": 0.2}}})
    for level in (0, 1):
        dump(replicate / f"level_{level}" / "main" / "hparams.json", {"training": {"lr": 0.1}, "level": level, "replicate": 1})
    dump(replicate / "level_1" / "random_reinit_1111111111111111" / "hparams.json",
         {"training": {"lr": 0.1}, "level": 1, "branch": {"name": "random_reinit_1111111111111111", "hparams": {"seed": 1}}})
    store = ticketlab.Store(tmp_path)
    runs = store.runs()
    assert runs.run.tolist() == ["lottery_aa/replicate_1/level_0/main", "lottery_aa/replicate_1/level_1/main",
                                 "lottery_aa/replicate_1/level_1/random_reinit_1111111111111111"]
    assert runs.series.tolist() == ["ticket", "ticket", "random_reinit"]
    assert runs["pruning.pruning_fraction"].tolist() == [0.2] * 3  # the experiment's recipe fills what a run's file lacks
    assert runs.state.tolist() == ["new"] * 3
    assert len(store.runs(level=1, branch=["random_reinit"])) == 1
    assert len(store.runs(training__lr=0.1)) == 3
    assert len(store.runs(level=lambda l: l > 0)) == 2
    with pytest.raises(KeyError, match="no column 'nope'"):
        store.runs(nope=1)
    assert store.results().empty and list(store.results(hparams=False).columns) == ticketlab.store.RESULT_COLUMNS
