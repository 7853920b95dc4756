"""``python -m sim``: the same as the ``sim`` command."""

from sim.cli.main import main

if __name__ == "__main__":
    main()
