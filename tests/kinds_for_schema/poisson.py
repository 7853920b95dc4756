from dataclasses import dataclass

from sim.core.settings import Kind, setting


@dataclass(frozen=True)
class PoissonParams:
    rate_per_s: float = setting(minimum=0)


KIND = Kind("poisson", PoissonParams, lambda params: params)
