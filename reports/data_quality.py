"""The auditor's data-quality report: what was loaded, does it balance, what was rejected, and the
Great Expectations results of the latest run (from audit.dq_results). Counts only: no value of
any row is shown, so no PHI can appear."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import duckdb

from reports import html
from reports.data import one, rows
from transforms import incremental

TRACE_HELP = """<ol>
<li>A weekly figure comes from a mart named on the report (for example the initial denial rate by payer from
<code>marts.mart_weekly_denial_rates</code>, which reads <code>marts.mart_claim_kpis</code>, where it is defined); its
claims are the rows of <code>marts.mart_claim_facts</code> for that week and payer.</li>
<li>Each claim's adjudications are in <code>intermediate.int_adjudications</code> (one row per CLP) and its denials in
<code>intermediate.int_denial_events</code> (one row per CAS reason), each with <code>file_id</code> and
<code>source_row</code>.</li>
<li><code>audit.file_manifest</code> gives the file of a <code>file_id</code> (name, sha256, when it was loaded);
<code>source_row</code> is the place in it. For an 835, segment <em>n</em> is the <em>n</em>-th segment of the file.</li>
</ol>
<p>Example, in DuckDB: <code>SELECT m.file_name, d.source_row, d.group_code, d.carc, d.denied_amount FROM
intermediate.int_denial_events d JOIN audit.file_manifest m USING (file_id) WHERE d.claim_id = '...'</code></p>"""


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    found = one(con, "SELECT count(*) AS n FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? "
                     "AND database_name = current_database()", [schema, table])
    return bool(found and found["n"])


def _balancing(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """marts.mart_remit_balancing as it is, one row per check (empty before the models were first built)."""
    if not _exists(con, "marts", "mart_remit_balancing"):
        return []
    return rows(con, """SELECT balancing_check AS "check", checked, unbalanced, difference
                        FROM marts.mart_remit_balancing ORDER BY check_order""")


def _remit_findings(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """intermediate.int_remit_findings, warnings first (empty before the models were first built)."""
    if not _exists(con, "intermediate", "int_remit_findings"):
        return []
    return rows(con, """SELECT file_name, severity, code, trace_number, amount, related_file_name, message
                        FROM intermediate.int_remit_findings
                        ORDER BY severity = 'info', file_name, code, message""")


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
    remit_findings = _remit_findings(con)
    skipped = rows(con, "SELECT path, reason, first_seen, last_seen FROM audit.skipped_paths ORDER BY last_seen DESC, path")
    history = rows(
        con,
        """SELECT run_id, min(validated_at) AS validated_at,
                  count(*) FILTER (WHERE NOT success AND severity = 'error') AS errors_failed,
                  count(*) FILTER (WHERE NOT success AND severity = 'warning') AS warnings_failed,
                  count(*) AS expectations
           FROM audit.dq_results GROUP BY run_id ORDER BY validated_at DESC LIMIT 30""",
    )
    this_week = rows(
        con,
        """SELECT file_name, file_kind, status, rows_loaded, loaded_at FROM audit.file_manifest
           WHERE loaded_at >= (SELECT max(loaded_at) FROM audit.file_manifest) - INTERVAL 7 DAY
           ORDER BY loaded_at DESC, file_name""",
    )
    balancing = _balancing(con)
    errors = [r for r in results if r["severity"] == "error" and not r["success"]]
    warnings = [r for r in results if r["severity"] == "warning" and not r["success"]]
    status = (
        f"{len(errors)} error expectation(s) failed: the tables they validate block what depends on them."
        if errors
        else "No error expectation failed."
    ) + f" {len(warnings)} warning(s)."
    model_status = incremental.status(con)
    plan = one(con, "SELECT mode, reason, scope_claims FROM audit.model_plans ORDER BY plan_id DESC LIMIT 1")
    if plan is None:
        built = ""
    elif plan["mode"] == "incremental":
        built = (f"Models built incrementally ({escape(plan['reason'])}; {plan['scope_claims']:,} claims in scope): the "
                 "expectations of the rebuilt tables validated the rows this run rebuilt (column Rows).")
    elif plan["mode"] == "none":
        built = "No new file: the models were not rebuilt; the expectations validated the whole tables."
    else:
        built = f"Models rebuilt whole ({escape(plan['reason'])}): the expectations validated the whole tables."
    sections = [
        {"id": "status", "title": "Status of the latest run", "lead": f"Run {run_id or '(none)'}.",
         "body": f'<div class="{"alert" if errors else "ok"}">{status}</div>' + (f"<p>{built}</p>" if built else "")
                 + f'<p class="{"" if model_status.complete else "alert"}">{escape(model_status.sentence())}</p>'},
        {"id": "checks", "title": "Expectations (Great Expectations)",
         "lead": "Each expectation with its severity: errors block downstream tables, warnings are reported.",
         "body": html.table(results, [("suite", "Suite", "text"), ("table_name", "Table", "text"),
                                      ("description", "Expectation", "text"), ("column_name", "Column", "text"),
                                      ("severity", "Severity", "text"), ("success", "Passed", "text"),
                                      ("element_count", "Rows", "int"), ("unexpected_count", "Failing rows", "int")],
                            "table-checks")},
        {"id": "balancing", "title": "Does it balance?",
         "lead": "835 balancing (DOMAIN.md): per line SVC02 - CAS = SVC03; per claim CLP03 - all CAS = CLP04; "
                 "per payment sum(CLP04) - sum(PLB) = BPR02. How many were checked, how many do not balance, and by how much.",
         "body": html.table(balancing, [("check", "Check", "text"), ("checked", "Checked", "int"),
                                        ("unbalanced", "Not balanced", "int"), ("difference", "Net difference", "money2")],
                            "table-balancing")},
        {"id": "this-week", "title": "Files received in the last 7 days",
         "lead": "Loaded in the week before the latest load.",
         "body": html.table(this_week, [("file_name", "File", "text"), ("file_kind", "Kind", "text"), ("status", "Status", "text"),
                                        ("rows_loaded", "Rows loaded", "int"), ("loaded_at", "Loaded at (UTC)", "text")],
                            "table-this-week")},
        {"id": "files", "title": "Every file received and loaded",
         "lead": "Every file with its sha256: the same content is never loaded twice.",
         "body": html.table(files, [("file_name", "File", "text"), ("file_kind", "Kind", "text"), ("status", "Status", "text"),
                                    ("rows_read", "Records read", "int"), ("rows_loaded", "Rows loaded", "int"),
                                    ("rows_quarantined", "Records quarantined", "int"), ("warning_count", "Warnings", "int"),
                                    ("loaded_at", "Loaded at (UTC)", "text"), ("sha256", "sha256", "text")], "table-files")},
        {"id": "quarantine", "title": "Quarantined files", "lead": "Files that could not be read, and why. Nothing of them was loaded.",
         "body": html.table(quarantine, [("file_name", "File", "text"), ("error_code", "Error", "text"),
                                         ("location", "Where", "text"), ("message", "Expected", "text"),
                                         ("quarantined_at", "When (UTC)", "text")], "table-quarantine")},
        {"id": "skipped", "title": "Passed over in the landing folder",
         "lead": "Paths that were never read, and why: links leading outside the landing folder, dangling links, "
                 "FIFOs, sockets and devices, folders named like data files.",
         "body": html.table(skipped, [("path", "Path", "text"), ("reason", "Why", "text"),
                                      ("first_seen", "First seen (UTC)", "text"), ("last_seen", "Last seen (UTC)", "text")],
                            "table-skipped")},
        {"id": "findings", "title": "Load findings", "lead": "Problems recorded without stopping a load (envelope counts, balancing).",
         "body": html.table(findings, [("file_name", "File", "text"), ("severity", "Severity", "text"), ("code", "Code", "text"),
                                       ("location", "Where", "text"), ("message", "What", "text")], "table-findings")},
        {"id": "remittance-decisions", "title": "Payments replaced, combined or ambiguous",
         "lead": "What the remittance rules decided (docs/x12.md): payments sent again in a later file (the later copy "
                 "counts), trace numbers repeated in one file (all count), split claims combined into one adjudication, "
                 "patient control numbers shared by several claims, CLP02=4 without a denial code. Each with its file.",
         "body": html.table(remit_findings, [("file_name", "File", "text"), ("severity", "Severity", "text"),
                                             ("code", "Code", "text"), ("trace_number", "Trace number", "text"),
                                             ("amount", "Amount", "money2"), ("related_file_name", "Replaced by", "text"),
                                             ("message", "What", "text")], "table-remittance-decisions")},
        {"id": "trace", "title": "How to trace a figure to its source",
         "lead": "Every row of every table carries file_id (the first 16 hex digits of its file's sha256) and source_row "
                 "(the CSV line, or the X12 segment number counted from the file's first segment).",
         "body": TRACE_HELP},
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
        charts=False,
        footer="Counts only: no value of any row is shown. Trace any figure through file_id and source_row in the warehouse.",
    )
    summary = {
        "run_id": run_id,
        "models": {"complete": model_status.complete, "statement": model_status.sentence(),
                   "last_batch": model_status.last_batch, "files_pending": model_status.files_pending,
                   "models_pending": list(model_status.models_pending)},
        "errors_failed": len(errors),
        "warnings_failed": len(warnings),
        "expectations": [
            {k: r[k] for k in ("suite", "table_name", "expectation", "column_name", "severity", "success",
                               "element_count", "unexpected_count", "description")}
            for r in results
        ],
        "balancing": [{k: str(v) for k, v in b.items()} for b in balancing],
        "files": [{k: str(v) if v is not None else None for k, v in f.items()} for f in files],
        "quarantine": [{k: str(v) if v is not None else None for k, v in q.items()} for q in quarantine],
        "skipped_paths": [{k: str(v) if v is not None else None for k, v in s.items()} for s in skipped],
        "remittance_decisions": [{k: str(v) if v is not None else None for k, v in f.items()} for f in remit_findings],
    }
    json_path = folder / "results.json"
    json_path.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    return {"html": page, "json": json_path}
