"""The auditor's data-quality report: what was loaded, does it balance, what was rejected, and the
Great Expectations results of the latest run (from audit.dq_results). Counts only: no value of
any row is shown, so no PHI can appear."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from reports import html
from reports.data import one, rows


def build_data_quality_report(con: duckdb.DuckDBPyConnection, output_dir: Path, run_id: str | None = None) -> dict[str, Path]:
    output_dir = Path(output_dir)
    if run_id is None:
        last = one(con, "SELECT run_id FROM audit.dq_results ORDER BY validated_at DESC LIMIT 1")
        run_id = last["run_id"] if last else None
    results = rows(
        con,
        """SELECT suite, table_name, expectation, column_name, severity, success, element_count, unexpected_count,
                  unexpected_percent, description
           FROM audit.dq_results WHERE run_id = ? ORDER BY severity, success, suite""",
        [run_id],
    )
    files = rows(
        con,
        """SELECT file_name, file_kind, status, size_bytes, sha256, received_at, loaded_at, rows_read, rows_loaded,
                  rows_quarantined, warning_count
           FROM audit.file_manifest ORDER BY loaded_at DESC, file_name""",
    )
    quarantine = rows(con, "SELECT file_name, quarantined_at, error_code, location, message FROM audit.quarantine ORDER BY quarantined_at DESC")
    findings = rows(
        con,
        """SELECT m.file_name, f.severity, f.code, f.location, f.message
           FROM audit.load_findings f JOIN audit.file_manifest m USING (file_id) ORDER BY m.file_name, f.code""",
    )
    history = rows(
        con,
        """SELECT run_id, min(validated_at) AS validated_at,
                  count(*) FILTER (WHERE NOT success AND severity = 'error') AS errors_failed,
                  count(*) FILTER (WHERE NOT success AND severity = 'warning') AS warnings_failed,
                  count(*) AS expectations
           FROM audit.dq_results GROUP BY run_id ORDER BY validated_at DESC LIMIT 30""",
    )
    errors = [r for r in results if r["severity"] == "error" and not r["success"]]
    warnings = [r for r in results if r["severity"] == "warning" and not r["success"]]
    status = (
        f"{len(errors)} error expectation(s) failed: the tables they validate block what depends on them."
        if errors
        else "No error expectation failed."
    ) + f" {len(warnings)} warning(s)."
    sections = [
        {"id": "status", "title": "Status of the latest run", "lead": f"Run {run_id or '(none)'}.",
         "body": f'<div class="{"alert" if errors else "ok"}">{status}</div>'},
        {"id": "checks", "title": "Expectations (Great Expectations)",
         "lead": "Each expectation with its severity: errors block downstream tables, warnings are reported.",
         "body": html.table(results, [("suite", "Suite", "text"), ("table_name", "Table", "text"),
                                      ("description", "Expectation", "text"), ("column_name", "Column", "text"),
                                      ("severity", "Severity", "text"), ("success", "Passed", "text"),
                                      ("element_count", "Rows", "int"), ("unexpected_count", "Failing rows", "int")],
                            "table-checks")},
        {"id": "files", "title": "Files received and loaded",
         "lead": "Every file with its sha256: the same content is never loaded twice.",
         "body": html.table(files, [("file_name", "File", "text"), ("file_kind", "Kind", "text"), ("status", "Status", "text"),
                                    ("rows_read", "Records read", "int"), ("rows_loaded", "Rows loaded", "int"),
                                    ("rows_quarantined", "Records quarantined", "int"), ("warning_count", "Warnings", "int"),
                                    ("loaded_at", "Loaded at (UTC)", "text"), ("sha256", "sha256", "text")], "table-files")},
        {"id": "quarantine", "title": "Quarantined files", "lead": "Files that could not be read, and why. Nothing of them was loaded.",
         "body": html.table(quarantine, [("file_name", "File", "text"), ("error_code", "Error", "text"),
                                         ("location", "Where", "text"), ("message", "Expected", "text"),
                                         ("quarantined_at", "When (UTC)", "text")], "table-quarantine")},
        {"id": "findings", "title": "Load findings", "lead": "Problems recorded without stopping a load (envelope counts, balancing).",
         "body": html.table(findings, [("file_name", "File", "text"), ("severity", "Severity", "text"), ("code", "Code", "text"),
                                       ("location", "Where", "text"), ("message", "What", "text")], "table-findings")},
        {"id": "history", "title": "Data quality over time", "lead": "Failed expectations per run (latest 30 runs).",
         "body": html.table(history, [("validated_at", "Run time (UTC)", "text"), ("run_id", "Run", "text"),
                                      ("expectations", "Expectations", "int"), ("errors_failed", "Errors failed", "int"),
                                      ("warnings_failed", "Warnings failed", "int")], "table-history")},
    ]
    folder = output_dir / "data_quality"
    page = html.render(
        "data_quality.html",
        folder / "index.html",
        output_dir,
        title="Data quality and audit trail",
        subtitle=f"{len(files)} files in the manifest · {len(quarantine)} quarantined · {len(results)} expectations in the latest run",
        sections=sections,
        footer="Counts only: no value of any row is shown. Trace any figure through file_id and source_row in the warehouse.",
    )
    summary = {
        "run_id": run_id,
        "errors_failed": len(errors),
        "warnings_failed": len(warnings),
        "expectations": [
            {k: r[k] for k in ("suite", "table_name", "expectation", "column_name", "severity", "success",
                               "element_count", "unexpected_count", "description")}
            for r in results
        ],
        "files": [{k: str(v) if v is not None else None for k, v in f.items()} for f in files],
        "quarantine": [{k: str(v) if v is not None else None for k, v in q.items()} for q in quarantine],
    }
    json_path = folder / "results.json"
    json_path.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    return {"html": page, "json": json_path}
