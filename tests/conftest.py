"""Shared fixtures: seeded simulations and the bundled samples."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

import salesgoals as sg  # noqa: E402

#: Seed of the shared simulation; every random draw in the suite is seeded.
SIM_SEED = 7


@pytest.fixture(scope="session")
def sim():
    """A mid-sized simulated CRM (40 reps x 104 weeks) with known truth."""
    return sg.simulate.make_crm_data(n_reps=40, n_weeks=104, seed=SIM_SEED)


@pytest.fixture(scope="session")
def sim_panel(sim):
    """Weekly panel of :func:`sim`."""
    return sg.build_panel(sim.activities, sim.deals, roster=sim.roster, freq="W")
