"""sim-plan's sweeper where Hydra looks for plugins.

Hydra instantiates a sweeper only from a class in the ``hydra_plugins`` namespace
package; this folder is installed as ``hydra_plugins.sim_plan`` (``pyproject.toml``
maps it), so ``hydra/sweeper=plan`` (``configs/hydra/sweeper/plan.yaml``) can name the
class. The sweeper itself is `sim.batch.plan.sweeper.PlanSweeper`.
"""

from sim.batch.plan.sweeper import PlanSweeper as _PlanSweeper


class PlanSweeper(_PlanSweeper):
    """`sim.batch.plan.sweeper.PlanSweeper`, under the name Hydra accepts."""


__all__ = ["PlanSweeper"]
