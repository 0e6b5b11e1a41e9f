"""Reference tables in the warehouse (schema ref), rebuilt from their sources at every run."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from transforms.errors import ConfigError
from transforms.settings import Settings

CARC_COLUMNS = ["carc", "category", "is_denial", "preventable", "owner"]


def load_reference(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, int]:
    path = settings.carc_table
    if not path.exists():
        raise ConfigError(f"CARC category table not found: {path}")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            """CREATE OR REPLACE TABLE ref.carc_categories AS
               SELECT upper(trim(carc)) AS carc, trim(category) AS category,
                      CAST(is_denial AS BOOLEAN) AS is_denial, CAST(preventable AS BOOLEAN) AS preventable,
                      nullif(trim(owner), '') AS owner
               FROM read_csv(?, header=true, all_varchar=true)""",
            [str(path)],
        )
        dupes = con.execute(
            "SELECT carc FROM ref.carc_categories GROUP BY carc HAVING count(*) > 1 ORDER BY carc"
        ).fetchall()
        if dupes:
            raise ConfigError(f"{path}: CARC listed more than once: {', '.join(d[0] for d in dupes)}")
        payers = pa.table(
            {
                "payer_id": pa.array(list(settings.appeal_window_days), pa.string()),
                "appeal_window_days": pa.array(list(settings.appeal_window_days.values()), pa.int32()),
            }
        )
        con.register("__payers", payers)
        con.execute("CREATE OR REPLACE TABLE ref.payer_settings AS SELECT * FROM __payers")
        con.unregister("__payers")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {
        "carc_categories": con.execute("SELECT count(*) FROM ref.carc_categories").fetchone()[0],
        "payer_settings": payers.num_rows,
    }
