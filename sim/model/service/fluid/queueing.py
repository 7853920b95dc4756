"""The queueing approximations the fluid mode uses below capacity.

A replica below capacity (utilisation ``ρ = λ / cμ < 1``) is taken at the stationary
GI/G/c waiting time of its current piece (the pointwise stationary approximation: Green,
Kolesar and Svoronos, "Some effects of nonstationarity on multiserver Markovian queueing
systems", *Operations Research* 39(3), 1991): the Allen–Cunneen mean ``E[Wq] ≈ C(c, λ/μ)
/ (cμ − λ) × (Ca² + Cs²) / 2``, with ``C`` Erlang C's probability of waiting and ``Ca²``,
``Cs²`` the squared coefficients of variation of the replica's inter-arrival and service
times (A. O. Allen, *Probability, Statistics, and Queueing Theory*, 2nd ed., Academic
Press 1990; W. Whitt, "Approximations for the GI/G/m queue", *Production and Operations
Management* 2(2), 1993), times the Krämer–Langenbach-Belz factor when arrivals are
smoother than Poisson; the probability of waiting is Erlang C's with the correction of
Whitt's Queueing Network Analyzer (*Bell System Technical Journal* 62(9), 1983).

Distributions are read through their inverse (each samples by inverse transform), so a
quantile or a moment costs no random draw.
"""

from __future__ import annotations

import math

import numpy as np

from sim.core.distributions import Distribution


class _FixedUniform:
    """Stands for a generator whose next ``random()`` is `u`: a distribution's quantile."""

    __slots__ = ("u",)

    def __init__(self, u: float) -> None:
        self.u = u

    def random(self) -> float:
        return self.u


def quantile_of(distribution: Distribution, p: float) -> float:
    """The `p`-quantile of a distribution that samples by inverse transform."""
    return distribution.sample(_FixedUniform(p))  # type: ignore[arg-type]


def squared_cv(distribution: Distribution, cells: int = 4096) -> float:
    """The squared coefficient of variation, by the midpoint rule on the inverse."""
    values = np.array([quantile_of(distribution, (k + 0.5) / cells) for k in range(cells)])
    mean = float(values.mean())
    return float(values.var() / mean**2) if mean > 0 else 0.0


def erlang_c(servers: int, offered_load: float) -> float:
    """C(c, a): the probability that an arrival waits in M/M/c, a = λ/μ < c."""
    if offered_load <= 0:
        return 0.0
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    return servers * blocking / (servers - offered_load * (1 - blocking))


def gi_g_c_wait(
    workers: int, load: float, capacity_per_s: float, arrival_cv2: float, service_cv2: float
) -> tuple[float, float]:
    """``(P(wait), E[Wq])`` of a GI/G/c queue at utilisation `load` < 1.

    The mean is Allen–Cunneen's ``C(c, a) / (cμ − λ) × (Ca² + Cs²) / 2`` with, for
    smoother than Poisson arrivals (``Ca² < 1``), the Krämer–Langenbach-Belz factor
    ``exp(−2 (1 − ρ)(1 − Ca²)² / (3ρ (Ca² + Cs²)))`` (exact to 1 % for D/M/1 at ρ = 0.5);
    the probability of waiting is Erlang C's times the GI/G/1 correction of Whitt's
    Queueing Network Analyzer (Bell System Technical Journal 62(9), 1983),
    ``1 − (1 − Ca²)(1 − ρ) h`` with ``h = (1 + Ca² + ρCs²) / (1 + ρ(Cs² − 1) + ρ²(4Ca²
    + Cs²))``, which is 1 for Poisson arrivals.
    """
    waits = erlang_c(workers, load * workers)
    variability = (arrival_cv2 + service_cv2) / 2
    mean_wait_s = waits / (capacity_per_s * (1 - load)) * variability
    if arrival_cv2 < 1 and variability > 0:
        mean_wait_s *= math.exp(
            -2 * (1 - load) * (1 - arrival_cv2) ** 2 / (3 * load * (arrival_cv2 + service_cv2))
        )
        h = (1 + arrival_cv2 + load * service_cv2) / (
            1 + load * (service_cv2 - 1) + load**2 * (4 * arrival_cv2 + service_cv2)
        )
        waits *= min(1.0, max(0.0, 1 - (1 - arrival_cv2) * (1 - load) * h))
    return waits, mean_wait_s


def arrival_scv(kind: str, balancer: str, replicas: int) -> float:
    """The squared coefficient of variation of one replica's inter-arrival times.

    Arrivals are Poisson but for the ``constant`` kind (``Ca² = 0``), thinned by the
    balancer: round robin and least outstanding pass every n-th request to a replica
    (``Ca²/n``), random choice a random share (``1 − (1 − Ca²)/n``).
    """
    source = 0.0 if kind == "constant" else 1.0
    if balancer == "random_choice":
        return 1 - (1 - source) / replicas
    return source / replicas
