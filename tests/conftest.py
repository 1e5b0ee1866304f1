"""Shared fixtures: seeded simulations and the bundled samples."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

import salesgoals as sg  # noqa: E402

#: Seed of the shared simulation; every random draw in the suite is seeded.
SIM_SEED = 7

# Property tests draw their examples from a fixed seed too, so every run checks the same cases
# (a failure is reproducible from the printed example); nothing is written to .hypothesis/.
settings.register_profile("salesgoals", derandomize=True, database=None, print_blob=True)
settings.load_profile("salesgoals")


@pytest.fixture(scope="session")
def sim():
    """A mid-sized simulated CRM (40 reps x 104 weeks) with known truth."""
    return sg.simulate.make_crm_data(n_reps=40, n_weeks=104, seed=SIM_SEED)


@pytest.fixture(scope="session")
def sim_panel(sim):
    """Weekly panel of :func:`sim`."""
    return sg.build_panel(sim.activities, sim.deals, roster=sim.roster, freq="W")
