"""The calibration runner and `cjm calibrate` (fast settings; full runs print in benchmarks)."""

from __future__ import annotations

import pandas as pd
import pytest

from cjm_core.cli import main
from cjm_core.errors import CjmError
from cjm_core.stats import calibrate_proportions, calibration


def test_proportions_are_calibrated_over_2000_studies():
    table = calibration.run_all(n_sims=2000, seed=2, areas=["proportions"], progress=None)
    assert table["area"].unique().tolist() == ["proportions"]
    assert table["ok"].all(), table
    assert len(table) == 3 and (table["seconds"] >= 0).all()


def test_unknown_area_and_bad_count_are_errors():
    with pytest.raises(CjmError, match="Unknown calibration area"):
        calibration.run_all(areas=["astrology"], progress=None)
    with pytest.raises(CjmError, match="n_sims"):
        calibration.run_all(n_sims=0, areas=["proportions"], progress=None)


def test_cli_prints_the_table_and_exits_1_when_a_check_fails(capsys, monkeypatch, tmp_path):
    def table(value):
        def calibrate(n_sims, seed):
            ok = 0.035 <= value <= 0.065
            row = {"function": "f", "check": "false-positive rate", "value": value,
                   "low": 0.035, "high": 0.065, "ok": ok, "setting": "s"}  # fmt: skip
            return pd.DataFrame([row])

        return calibrate

    out = tmp_path / "cal.csv"
    monkeypatch.setattr(calibrate_proportions, "calibrate", table(0.05))
    assert main(["calibrate", "--sims", "10", "--area", "proportions", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "false-positive rate" in printed.out and "0 outside their bounds" in printed.out
    assert "[1/1] proportions" in printed.err  # progress goes to stderr
    assert len(pd.read_csv(out)) == 1

    monkeypatch.setattr(calibrate_proportions, "calibrate", table(0.2))
    assert main(["calibrate", "--sims", "10", "--area", "proportions"]) == 1
    assert "OUTSIDE" in capsys.readouterr().out


def test_full_runs_the_slow_structural_time_series_at_the_full_count(monkeypatch):
    from cjm_core.stats import calibrate_timeseries

    seen = []

    def fake(n_sims, seed, **kwargs):
        seen.append(kwargs)
        return pd.DataFrame([{"function": "f", "check": "c", "value": 0.05, "low": 0.0,
                              "high": 1.0, "ok": True, "setting": float("nan")}])  # fmt: skip

    monkeypatch.setattr(calibrate_timeseries, "calibrate", fake)
    calibration.run_all(n_sims=50, areas=["timeseries"], progress=None)
    table = calibration.run_all(n_sims=50, areas=["timeseries"], progress=None, full=True)
    assert seen == [{}, {"sts_sims": 50}]
    assert calibration.format_table(table).splitlines()[0].endswith("ok")  # no "nan" setting
