"""Errors a user can cause, reported as one line each.

A `ConfigError` names the config key, the offending value and what would have been
allowed; the command line prints it as ``config error: <key>: <value>: <allowed>`` and
exits with status 2, never with a traceback.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value that the simulator cannot accept."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        super().__init__(f"{key}: {value!s}: {allowed}")

    def line(self) -> str:
        """The one line the command line prints for this error."""
        return f"config error: {self}"

    def under(self, prefix: str) -> ConfigError:
        """The same error with its key placed under `prefix` (e.g. a config group)."""
        key = f"{prefix}.{self.key}" if self.key else prefix
        return ConfigError(key, self.value, self.allowed)
