"""Test helpers."""

from __future__ import annotations

from typing import Any

from credplane.runtime import Secret


def reveal(value: Any) -> Any:
    """Strips :class:`Secret` wrappers recursively (for comparisons in tests; never for printing)."""
    if isinstance(value, Secret):
        return reveal(value.value)
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [reveal(v) for v in value]
    return value
