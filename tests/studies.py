"""Loading and running the study scripts of experiments/ from the tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

EXPERIMENTS = Path(__file__).resolve().parent.parent / "experiments"


def load_study(name: str) -> ModuleType:
    """Import ``experiments/<name>.py`` as a module (the scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(f"study_{name}", EXPERIMENTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


def run_quick(study: ModuleType, out: Path) -> list[dict[str, Any]]:
    """The study's rows at its quick size, its files written into `out`."""
    rows: list[dict[str, Any]] = study.main(["--quick", "--out", str(out), "--no-progress"])
    return rows
