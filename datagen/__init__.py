"""Synthetic revenue-cycle data with planted patterns and ground truth."""
