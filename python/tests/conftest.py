import os

import pytest

import ticketlab


@pytest.fixture(scope="session")
def store():
    """The store TICKETLAB_STORE names, made by the ticketlab CLI (scripts/python-smoke.sh makes one).
    Without it the tests that need a real store are skipped, or fail with TICKETLAB_REQUIRE_STORE=1."""
    root = os.environ.get("TICKETLAB_STORE")
    if not root:
        message = "TICKETLAB_STORE is not set: give it a store made by the ticketlab CLI (scripts/python-smoke.sh makes one)"
        if os.environ.get("TICKETLAB_REQUIRE_STORE") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return ticketlab.Store(root)


def derived(value: float) -> float:
    """TicketLab's rounding of derived values (Foundations/DataNumbers.cs): 12 significant digits."""
    return float(f"{value:.12g}")
