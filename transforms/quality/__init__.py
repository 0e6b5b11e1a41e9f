"""Data quality: expectation suites on warehouse tables, validated with Great Expectations."""
