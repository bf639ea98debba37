"""Durable CSV time series: exact floats, strict rows, resume without duplicates."""

import math

import numpy as np
import pytest

from pdssb.io.timeseries import TimeSeriesWriter, read_timeseries

COLUMNS = ["step", "time", "energy", "cracked"]


def _row(step, time, energy, cracked=False):
    return {"step": step, "time": time, "energy": energy, "cracked": cracked}


def test_header_and_exact_round_trip(tmp_path):
    path = tmp_path / "ts.csv"
    # The smallest *normal* double, not a subnormal: once Taichi has initialised, the process runs
    # with flush-to-zero / denormals-are-zero, so any subnormal (5e-324) parses as 0.0 whatever
    # the writer does. The writer's '%.17g' round trip is what this test checks.
    values = [1.0 / 3.0, 1e-300, -0.0, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1 + 0.2]
    with TimeSeriesWriter(path, COLUMNS) as writer:
        for k, value in enumerate(values):
            writer.append(_row(k, np.float64(k) * 0.1, value, cracked=np.bool_(k % 2)))
        assert writer.n_rows == len(values)
    lines = path.read_text().splitlines()
    assert lines[0] == "step,time,energy,cracked"
    assert lines[1] == "0,0,0.33333333333333331,0"
    assert lines[2].endswith(",1")
    data = read_timeseries(path)
    assert list(data) == COLUMNS
    assert data["energy"].tolist() == values  # bit-exact, including -0.0
    assert math.copysign(1.0, data["energy"][2]) == -1.0
    assert data["step"].tolist() == list(range(len(values)))
    assert data["cracked"].tolist() == [0, 1, 0, 1, 0, 1]


def test_nan_and_inf_round_trip(tmp_path):
    path = tmp_path / "ts.csv"
    with TimeSeriesWriter(path, ["x"]) as writer:
        for value in (math.nan, math.inf, -math.inf, np.float32(0.1)):
            writer.append({"x": value})
    x = read_timeseries(path)["x"]
    assert math.isnan(x[0]) and x[1] == math.inf and x[2] == -math.inf
    assert x[3] == float(np.float32(0.1))


@pytest.mark.parametrize(
    "row, error",
    [
        ({"step": 1, "time": 0.0, "energy": 1.0}, ValueError),  # missing
        ({**_row(1, 0.0, 1.0), "extra": 2.0}, ValueError),  # unknown column
        (_row(1, 0.0, "1.0"), TypeError),  # not a number
        (_row(1, None, 1.0), TypeError),
    ],
)
def test_bad_rows_rejected(tmp_path, row, error):
    path = tmp_path / "ts.csv"
    with TimeSeriesWriter(path, COLUMNS) as writer:
        writer.append(_row(0, 0.0, 0.5))
        with pytest.raises(error):
            writer.append(row)
        assert writer.n_rows == 1
    assert path.read_text().count("\n") == 2  # header + the one good row


@pytest.mark.parametrize("columns", [[], ["a", "a"], ["a,b"], ["a\n"], [""]])
def test_bad_columns_rejected(tmp_path, columns):
    with pytest.raises(ValueError):
        TimeSeriesWriter(tmp_path / "ts.csv", columns)


def test_reopen_appends_and_checks_header(tmp_path):
    path = tmp_path / "ts.csv"
    with TimeSeriesWriter(path, COLUMNS) as writer:
        writer.append(_row(0, 0.0, 1.0))
    with TimeSeriesWriter(path, COLUMNS) as writer:
        assert writer.n_rows == 1
        writer.append(_row(1, 0.1, 2.0))
    assert read_timeseries(path)["energy"].tolist() == [1.0, 2.0]
    assert path.read_text().count("step,time") == 1
    with pytest.raises(ValueError, match="header"):
        TimeSeriesWriter(path, ["step", "time"])
    assert read_timeseries(path)["step"].tolist() == [0, 1]


def test_truncate_rows_for_resume(tmp_path):
    path = tmp_path / "ts.csv"
    with TimeSeriesWriter(path, COLUMNS) as writer:
        for k in range(5):
            writer.append(_row(k, k * 0.1, float(k)))
        writer.truncate_rows(3)
        assert writer.n_rows == 3
        writer.append(_row(3, 0.3, 30.0))  # the resumed run continues
        with pytest.raises(ValueError):
            writer.truncate_rows(5)
    assert read_timeseries(path)["energy"].tolist() == [0.0, 1.0, 2.0, 30.0]
    with TimeSeriesWriter(path, COLUMNS) as writer:
        writer.truncate_rows(0)
    assert path.read_text() == "step,time,energy,cracked\n"
    assert all(len(v) == 0 for v in read_timeseries(path).values())
    assert [p.name for p in tmp_path.iterdir()] == ["ts.csv"]


def test_torn_last_line(tmp_path):
    path = tmp_path / "ts.csv"
    with TimeSeriesWriter(path, COLUMNS) as writer:
        writer.append(_row(0, 0.0, 1.0))
        writer.append(_row(1, 0.1, 2.0))
    with open(path, "a") as handle:  # a crash in the middle of a write
        handle.write("2,0.2,3.00")
    data = read_timeseries(path)
    assert data["energy"].tolist() == [1.0, 2.0]

    with TimeSeriesWriter(path, COLUMNS) as writer:  # reopening cuts the torn line
        assert writer.n_rows == 2
        writer.append(_row(2, 0.2, 3.5))
    assert read_timeseries(path)["energy"].tolist() == [1.0, 2.0, 3.5]


def test_reader_rejects_corrupt_middle_line(tmp_path):
    path = tmp_path / "ts.csv"
    path.write_text("a,b\n1,2\n3\n4,5\n")
    with pytest.raises(ValueError, match=":3:"):
        read_timeseries(path)
    path.write_text("a,b")
    with pytest.raises(ValueError, match="header"):
        read_timeseries(path)
