"""Renamed keywords: ``level=`` (a confidence level) is now ``interval=`` everywhere.

The old name keeps working for one release: same result, plus a
DeprecationWarning that names the new keyword.  Both names at once is a
TypeError.  (pyproject turns salesgoals' DeprecationWarnings into errors, so
every test here catches them explicitly.)
"""

from __future__ import annotations

import inspect
import warnings

import pandas as pd
import pytest
from sklearn.base import clone

import salesgoals as sg
from expected_warnings import DRIVER_NOTES, ignoring
from salesgoals._deprecate import renamed_attribute, renamed_kwargs



@renamed_kwargs(level="interval")
def _f(x, *, interval=0.8):
    return x, interval


def test_the_shim_forwards_warns_and_refuses_both():
    with pytest.warns(DeprecationWarning, match=r"level= is renamed interval=.*removed in salesgoals 0\.3"):
        assert _f(1, level=0.9) == (1, 0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _f(1, interval=0.7) == (1, 0.7)  # the new name: silent
        assert _f(1) == (1, 0.8)
    with pytest.raises(TypeError, match="pass interval= only"):
        _f(1, level=0.9, interval=0.9)
    assert "interval" in inspect.signature(_f).parameters  # help() shows the new name
    assert "level" not in inspect.signature(_f).parameters


def test_renamed_attribute_reads_the_new_one():
    class R:
        interval = 0.6
        level = renamed_attribute("level", "interval")

    with pytest.warns(DeprecationWarning, match=r"R\.level is renamed \.interval"):
        assert R().level == 0.6


@pytest.mark.parametrize(
    "func", [sg.project_targets, sg.backtest_goals, sg.recommend, sg.DriverModel], ids=lambda f: f.__name__
)
def test_public_signatures_say_interval(func):
    params = inspect.signature(func).parameters
    assert "interval" in params and "level" not in params


@pytest.fixture(scope="module")
def small_plan():
    sim = sg.simulate.make_crm_data(n_reps=8, n_weeks=60, seed=3)
    panel = sim.panel()
    with ignoring(sg.errors.UnreliableEstimateWarning, *DRIVER_NOTES):  # 8 simulated reps: few people, ...
        drivers = sg.fit_drivers(panel, outcome="deals_created", lags=1, diagnostics=False, n_boot=0)
    return panel, drivers, sg.personal_best_goals(panel, drivers)


def test_project_targets_old_keyword_gives_the_same_projection(small_plan):
    _, _, plan = small_plan
    new = sg.project_targets(plan, interval=0.6, n_sims=200, seed=1)
    with pytest.warns(DeprecationWarning, match="project_targets: level= is renamed interval="):
        old = sg.project_targets(plan, level=0.6, n_sims=200, seed=1)
    pd.testing.assert_frame_equal(old.table, new.table)
    assert new.interval == 0.6
    with pytest.warns(DeprecationWarning, match=r"TargetProjection\.level"):
        assert old.level == 0.6
    # the interval really is the one asked for: narrower coverage, narrower band
    wide = sg.project_targets(plan, interval=0.9, n_sims=200, seed=1).table
    width = lambda t: (t["revenue_high"] - t["revenue_low"]).sum()  # noqa: E731
    assert width(wide) > width(new.table)


def test_driver_model_old_keyword(small_plan):
    panel, _, _ = small_plan
    with pytest.warns(DeprecationWarning, match="DriverModel: level= is renamed interval="):
        model = sg.DriverModel(level=0.9, lags=1, diagnostics=False, n_boot=0)
    assert model.interval == 0.9 and model.get_params()["interval"] == 0.9
    assert "level" not in model.get_params()
    assert clone(model).interval == 0.9  # scikit-learn sees the new name
    with ignoring(sg.errors.UnreliableEstimateWarning, *DRIVER_NOTES):
        with pytest.warns(DeprecationWarning, match="fit_drivers: level= is renamed interval=") as rec:
            res_old = sg.fit_drivers(panel, level=0.9, lags=1, diagnostics=False, n_boot=0)
        res_new = sg.fit_drivers(panel, interval=0.9, lags=1, diagnostics=False, n_boot=0)
    # one warning, naming the function called and attributed to the caller: Python's default filters show a
    # DeprecationWarning only there (it used to say DriverModel and point inside salesgoals, hidden by default)
    assert [w.filename for w in rec if issubclass(w.category, DeprecationWarning)] == [__file__]
    pd.testing.assert_frame_equal(res_old.effects, res_new.effects)
    with pytest.warns(DeprecationWarning, match=r"DriverResult\.level"):
        assert res_old.level == 0.9


@pytest.mark.parametrize("func", [sg.backtest_goals, sg.recommend], ids=lambda f: f.__name__)
def test_both_names_is_an_error_before_any_work(func):
    with pytest.raises(TypeError, match="pass interval= only"):
        func(pd.DataFrame(), level=0.8, interval=0.8)


def test_backtest_goals_old_keyword(small_plan):
    panel, drivers, _ = small_plan
    with pytest.warns(DeprecationWarning, match="backtest_goals: level= is renamed interval="):
        bt = sg.backtest_goals(panel, drivers, horizon=4, n_origins=1, level=0.7, n_sims=100)
    assert bt.interval == 0.7 and bt.coverage["interval"].eq(0.7).all()
