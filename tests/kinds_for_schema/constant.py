from dataclasses import dataclass

from sim.core.settings import Kind, setting


@dataclass(frozen=True)
class ConstantParams:
    rate_per_s: float = setting(1.0, minimum=0)


KIND = Kind("constant", ConstantParams, lambda params: params)

MEMBER = Kind("steady", ConstantParams, lambda params: params)
"""The same kind under a second family's name (`Family(..., declared="MEMBER")`)."""
