"""``mmpp``: a Markov-modulated Poisson process, for bursty traffic.

A hidden state moves between a few levels of load; in state ``i`` requests arrive as a
Poisson process at ``rates_per_s[i]``, and the process stays there an exponentially
distributed time of mean ``mean_sojourn[i]`` before moving on: to the next state in
turn by default (two states make an on/off source), or as a row of ``transitions`` says.
It starts in ``initial_state``. Over a long run the share of time in state ``i`` is
``p_i × s_i / Σ p_j × s_j`` (``p`` the stationary distribution of the moves, ``s`` the
mean sojourns), and the mean rate the same weighting of the rates; counts over a window
vary more than Poisson counts (index of dispersion above 1), which is what makes it
bursty (Fischer and Meier-Hellstern, "The Markov-modulated Poisson process (MMPP)
cookbook", Performance Evaluation 18, 1993).

Exact: within a state the gaps are exponential, and a gap that would cross the end of
the state is discarded and drawing restarts there, which memorylessness allows. The
path of states is drawn from its own generator (spawned from the process's), so it is
the same whichever of `next_after` and `rate_at` asks first.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from sim.core.errors import ConfigError
from sim.core.settings import Kind, setting
from sim.core.uniforms import BlockUniforms
from sim.model.service.arrivals._streams import later

_ROW_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class MmppParams:
    rates_per_s: tuple[float, ...] = setting(minimum=0, doc="the arrival rate in each state")
    mean_sojourn_s: tuple[float, ...] = setting(
        unit="duration", doc="the mean time spent in each state (exponential)"
    )
    transitions: tuple[tuple[float, ...], ...] = setting(
        (), doc="row i: the chances of moving from state i to each state; default: the next"
    )
    initial_state: int = setting(0, minimum=0, doc="the state at the start")

    def __post_init__(self) -> None:
        states = len(self.rates_per_s)
        if states == 0:
            raise ConfigError("rates_per_s", "[]", "at least one rate")
        if len(self.mean_sojourn_s) != states:
            raise ConfigError(
                "mean_sojourn",
                list(self.mean_sojourn_s),
                f"one mean per state ({states}, as rates_per_s)",
            )
        if any(not (s > 0) for s in self.mean_sojourn_s):
            raise ConfigError("mean_sojourn", list(self.mean_sojourn_s), "durations above 0")
        if self.initial_state >= states:
            raise ConfigError("initial_state", self.initial_state, f"below {states}")
        if self.transitions:
            self._check_transitions(states)

    def _check_transitions(self, states: int) -> None:
        if len(self.transitions) != states:
            raise ConfigError("transitions", len(self.transitions), f"one row per state ({states})")
        for index, row in enumerate(self.transitions):
            key = f"transitions[{index}]"
            if len(row) != states or any(not (0 <= p <= 1) for p in row):
                raise ConfigError(key, list(row), f"{states} chances between 0 and 1")
            if abs(sum(row) - 1) > _ROW_TOLERANCE or (states > 1 and row[index] != 0):
                raise ConfigError(key, list(row), "chances summing to 1, 0 for staying")

    def next_states(self) -> tuple[tuple[float, ...], ...]:
        """The move chances as a full matrix (the cycle when none is given)."""
        if self.transitions:
            return self.transitions
        states = len(self.rates_per_s)
        return tuple(
            tuple(1.0 if j == (i + 1) % states else 0.0 for j in range(states))
            for i in range(states)
        )

    def stationary_mean_rate(self) -> float:
        """The long-run mean arrival rate (see the module docstring)."""
        moves = np.array(self.next_states(), dtype=float)
        states = len(self.rates_per_s)
        if states == 1:
            return self.rates_per_s[0]
        # The embedded chain's stationary distribution: p (P - I) = 0, sum p = 1.
        system = np.vstack([(moves - np.eye(states)).T, np.ones(states)])
        target = np.zeros(states + 1)
        target[-1] = 1.0
        visits = np.linalg.lstsq(system, target, rcond=None)[0]
        weights = visits * np.array(self.mean_sojourn_s)
        return float(weights @ np.array(self.rates_per_s) / weights.sum())


class MmppArrivals:
    """Arrivals of a Markov-modulated Poisson process (see the module docstring).

    Args:
        params: the states, their rates and sojourns, and the moves.
        rng: the generator the gaps are drawn from; the path of states is drawn from a
            generator spawned from it.
    """

    def __init__(self, params: MmppParams, rng: np.random.Generator) -> None:
        self._rates = params.rates_per_s
        self._sojourns_s = params.mean_sojourn_s
        self._cumulative = [tuple(np.cumsum(row)) for row in params.next_states()]
        self._gap = BlockUniforms(rng).random
        self._path = BlockUniforms(rng.spawn(1)[0]).random
        self._starts_s = [0.0]
        self._states = [params.initial_state]
        self._extend()

    def _extend(self) -> None:
        """Draw the current last state's sojourn and the state after it."""
        state = self._states[-1]
        end_s = self._starts_s[-1] - self._sojourns_s[state] * math.log1p(-self._path())
        row = self._cumulative[state]
        draw = self._path()
        following = min(bisect_right(row, draw), len(row) - 1)
        self._starts_s.append(later(end_s, self._starts_s[-1]))
        self._states.append(following)

    def _span(self, t_s: float) -> tuple[int, float]:
        """The state at `t_s` and when it ends."""
        while self._starts_s[-1] <= t_s:
            self._extend()
        index = bisect_right(self._starts_s, t_s) - 1
        return self._states[index], self._starts_s[index + 1]

    def rate_at(self, t_s: float) -> float:
        return self._rates[self._span(t_s)[0]]

    def next_change_after(self, t_s: float) -> float:
        """When the state at `t_s` ends (the rate may change there)."""
        return self._span(t_s)[1]

    def next_after(self, t_s: float) -> float:
        now_s = t_s
        while True:
            state, end_s = self._span(now_s)
            rate_per_s = self._rates[state]
            if rate_per_s > 0:
                candidate_s = later(now_s - math.log1p(-self._gap()) / rate_per_s, now_s)
                if candidate_s < end_s:
                    return candidate_s
            now_s = end_s


def build(params: MmppParams, rng: np.random.Generator) -> MmppArrivals:
    return MmppArrivals(params, rng)


KIND = Kind("mmpp", MmppParams, build, "bursty: Poisson at a rate set by a hidden Markov state")
