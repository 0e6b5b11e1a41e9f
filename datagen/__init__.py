"""Synthetic revenue-cycle data with planted patterns and ground truth."""

from datagen.generate import cli_generate, generate

__all__ = ["cli_generate", "generate"]
