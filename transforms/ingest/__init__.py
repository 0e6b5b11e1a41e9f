"""Ingestion: turn landed files into rows of the raw warehouse tables (no Dagster here)."""
