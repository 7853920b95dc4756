"""``python -m sim``: the same as the ``sim`` command."""

from sim.cli.launch import launch

if __name__ == "__main__":
    launch("sim")
