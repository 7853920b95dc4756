"""The command-line programs: ``sim`` and ``sim-report`` (Hydra apps, `sim.cli.main`)
and ``sim-kinds`` (`sim.cli.kinds`)."""
