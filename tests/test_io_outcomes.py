"""Activity outcomes the vocabulary does not know are said, not silently counted as failures (issue 11).

A call whose outcome is ``Gatekeeper`` used to load as outcome ``gatekeeper``
without a word: it counts as a call but not as a connected call, so the
connect rate (``call_connected``, a quality driver) moved and nobody was told.
Now the quality report lists every type's outcomes with their rows, an
``ASSUMED`` line (warned) names the unknown values of calls and meetings, and
``outcome_map=`` / ``--outcome-map`` says what they mean.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import salesgoals as sg
from salesgoals.cli import main
from salesgoals.errors import DataQualityWarning

#: (type, outcome as exported, rows) of the fixture; unknown to the vocabulary: Gatekeeper, Spoke - call back,
#: Rescheduled by client.  Known: Connected, Left voicemail, No answer, Completed (a held meeting), blank email.
_ROWS = [
    ("Call", "Connected", 7),
    ("Call", "Gatekeeper", 5),
    ("Call", "Spoke - call back", 3),
    ("Call", "Left voicemail", 4),
    ("Call", "No answer", 2),
    ("Meeting", "Completed", 6),
    ("Meeting", "Rescheduled by client", 1),
    ("Email", None, 3),
]


def _export() -> pd.DataFrame:
    types, outcomes = [], []
    for typ, outcome, k in _ROWS:
        types += [typ] * k
        outcomes += [outcome] * k
    n = len(types)
    stamps = pd.date_range("2024-03-04 09:00", periods=n, freq="37min").strftime("%Y-%m-%d %H:%M")
    return pd.DataFrame({"owner": np.where(np.arange(n) % 2 == 0, "Ana Lee", "Ben Ode"), "activity_date": stamps,
                         "activity_type": types, "call_result": outcomes})  # fmt: skip


def _load(export: pd.DataFrame | None = None, **kwargs) -> tuple[pd.DataFrame, list[str]]:
    """The loaded activities and the DataQualityWarnings raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        acts = sg.io.load_activities(_export() if export is None else export, **kwargs)
    return acts, [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]


def test_unknown_call_and_meeting_outcomes_are_warned_with_their_rows():
    acts, warned = _load()
    assert len(acts) == sum(k for *_, k in _ROWS)  # nothing dropped: they are still activities
    assert len(warned) == 1, warned
    msg = warned[0]
    assert "8 calls and 1 meeting carry outcome values salesgoals does not know" in msg
    for text in ("'Gatekeeper' -> gatekeeper (5)", "'Spoke - call back' -> spoke_call_back (3)",
                 "'Rescheduled by client' -> rescheduled_by_client (1)", "call_connected / meeting_held",
                 "outcome_map={'Gatekeeper': 'connected'}", "--outcome-map 'Gatekeeper=connected'"):  # fmt: skip
        assert text in msg, (text, msg)
    # known spellings are not listed as unknown
    assert "voicemail" not in msg and "Completed" not in msg


def test_quality_report_lists_each_types_outcomes_with_rows():
    acts, _ = _load()
    line = next(n for n in acts.attrs["quality"].notes if "outcomes from 'call_result'" in n)
    assert "call: connected 7, gatekeeper (not recognised) 5, voicemail 4, spoke_call_back (not recognised) 3, " \
           "no_answer 2" in line  # fmt: skip
    assert "meeting: held 6, rescheduled_by_client (not recognised) 1" in line
    assert "email: sent 3" in line
    assert str(acts.attrs["quality"].summary()).count("not recognised") == 3


def test_outcome_map_says_what_unknown_values_mean_and_moves_the_quality_counts():
    before, _ = _load()
    after, warned = _load(outcome_map={"Gatekeeper": "no_answer", "spoke - call back": "Connected",
                                       "Rescheduled by client": "rescheduled"})  # fmt: skip
    assert warned == []
    got = after.groupby("activity_type", observed=True)["outcome"].value_counts()
    assert got[("call", "connected")] == 7 + 3 and got[("call", "no_answer")] == 2 + 5
    assert got[("meeting", "rescheduled")] == 1
    p_before = sg.build_panel(before, freq="M")
    p_after = sg.build_panel(after, freq="M")
    assert p_before["call_connected"].sum() == 7 and p_after["call_connected"].sum() == 10
    assert p_after["meeting_held"].sum() == p_before["meeting_held"].sum() == 6
    assert p_after["call"].sum() == p_before["call"].sum() == 21  # the activity counts do not move


def test_outcome_map_values_must_be_known_outcomes():
    with pytest.raises(ValueError, match=r"outcome_map\['Gatekeeper'\] = 'conected' is not an outcome") as exc:
        sg.io.load_activities(_export(), outcome_map={"Gatekeeper": "conected"})
    assert "connected" in str(exc.value) and "no_answer" in str(exc.value)


def test_known_outcomes_load_without_the_note():
    export = _export()
    export = export[~export["call_result"].isin(["Gatekeeper", "Spoke - call back", "Rescheduled by client"])]
    acts, warned = _load(export)
    assert warned == [] and len(acts) == len(export)


def test_cli_outcome_map_flag_and_config(tmp_path, capsys):
    acts = tmp_path / "acts.csv"
    _export().to_csv(acts, index=False)
    out = tmp_path / "panel.csv"
    assert main(["panel", "-a", str(acts), "--freq", "M", "--outcome-map",
                 "Gatekeeper=no_answer,Spoke - call back=connected,Rescheduled by client=rescheduled",
                 "-o", str(out)]) == 0, capsys.readouterr().err  # fmt: skip
    assert pd.read_csv(out)["call_connected"].sum() == 10
    cfg = tmp_path / "salesgoals.toml"
    cfg.write_text('[outcome_map]\n"Spoke - call back" = "connected"\n', encoding="utf-8")
    assert main(["panel", "-a", str(acts), "--freq", "M", "--config", str(cfg), "-o", str(out)]) == 0
    assert pd.read_csv(out)["call_connected"].sum() == 10
    capsys.readouterr()
    assert main(["panel", "-a", str(acts), "--outcome-map", "Gatekeeper=conected"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'conected' is not an outcome" in err[0]


def test_panel_files_refuses_outcome_map(tmp_path, capsys):
    log = tmp_path / "acts.parquet"
    sg.io.load_activities(_export(), outcome_map={"Gatekeeper": "no_answer", "Spoke - call back": "connected",
                                                  "Rescheduled by client": "rescheduled"}).to_parquet(log)  # fmt: skip
    assert main(["panel-files", str(log), "--outcome-map", "Gatekeeper=connected", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "--outcome-map cannot be applied to activity files aggregated out of core" in err


def test_a_log_without_call_outcomes_gets_no_connected_call_goals():
    """A rep / time / type export used to give call_connected = 0 everywhere and goals of '0 connected calls'."""
    from salesgoals.simulate import make_crm_data

    sim = make_crm_data(n_reps=6, n_weeks=30, seed=4)
    lean = sim.activities[["rep", "timestamp", "activity_type"]]
    acts, _ = _load(lean)
    panel = sg.build_panel(acts, sim.deals)
    assert panel["call"].sum() > 0 and panel["meeting"].sum() > 0
    assert not {"call_connected", "meeting_held"} & set(panel.columns)
    assert set(panel.attrs["quality_unavailable"]) == {"call_connected", "meeting_held"}
    with warnings.catch_warnings(record=True):  # recorded, not checked: this test is about the goals' rows
        warnings.simplefilter("always")
        plan = sg.personal_best_goals(panel)
    assert not plan.table["activity"].astype(str).isin(["call_connected", "meeting_held"]).any()
    # with the outcomes the metrics are there (the rule looks at what the log records, not at the layout)
    full = sg.build_panel(sim.activities, sim.deals)
    assert full["call_connected"].sum() > 0 and full.attrs["quality_unavailable"] == {}
