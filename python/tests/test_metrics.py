"""metrics.csv, read as TicketLab reads it (Store/MetricsLog.cs)."""

import math

import pytest

import ticketlab


def write(tmp_path, text):
    path = tmp_path / "metrics.csv"
    path.write_text(text)
    return path


def test_rows_in_order_with_types(tmp_path):
    m = ticketlab.read_metrics(write(tmp_path, "name,step,value\ntest_accuracy,0,0.1\ntest_loss,0,2.3\ntest_accuracy,8,0.9\n"))
    assert list(m.columns) == ["name", "step", "value"]
    assert m.step.dtype == "int64" and m.value.dtype == "float64"
    assert m.values.tolist() == [["test_accuracy", 0, 0.1], ["test_loss", 0, 2.3], ["test_accuracy", 8, 0.9]]


def test_non_finite_values_as_dotnet_writes_them(tmp_path):
    m = ticketlab.read_metrics(write(tmp_path, "name,step,value\na,1,NaN\nb,1,Infinity\nc,1,-Infinity\nd,1,1E-05\n"))
    assert math.isnan(m.value[0]) and m.value[1] == math.inf and m.value[2] == -math.inf and m.value[3] == 1e-05


def test_a_torn_last_line_is_dropped(tmp_path):
    m = ticketlab.read_metrics(write(tmp_path, "name,step,value\ntest_accuracy,8,0.9\ntest_lo"))
    assert len(m) == 1


def test_a_malformed_line_elsewhere_is_an_error(tmp_path):
    with pytest.raises(ValueError, match=r"metrics.csv:2: expected 'name,step,value'"):
        ticketlab.read_metrics(write(tmp_path, "name,step,value\ntest_accuracy,x,0.9\ntest_loss,8,1\n"))


def test_former_names_and_the_early_learning_rate(tmp_path):
    text = "name,step,value\ntrain_batch_loss,8,1.5\ntrain_batch_accuracy,8,0.5\nlearning_rate,7,0.1\ntest_accuracy,8,0.6\n"
    m = ticketlab.read_metrics(write(tmp_path, text))
    assert m.values.tolist() == [["train_loss_epoch_mean", 8, 1.5], ["train_accuracy_epoch_mean", 8, 0.5],
                                 ["learning_rate", 8, 0.1], ["test_accuracy", 8, 0.6]]
