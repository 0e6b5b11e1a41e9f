"""A JSON-able summary of X12 files without loading anything.

The numbers follow the counting conventions of the shared fixtures' ``EXPECTED.json``: the
``x835`` / ``x837`` parts have the same keys and meaning, money as strings with two decimals.
Amounts or dates that are not of their type count as 0 / missing here and are listed in
``bad_values`` and ``errors`` (a load would quarantine the file). An unreadable file gives a
summary whose ``errors`` list says why, never an exception.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from transforms.errors import InputFileError
from transforms.ingest.records import Finding, ParsedFile
from transforms.x12.claims837 import parse_837_tokens
from transforms.x12.envelope import ENVELOPE_CODES, Envelope
from transforms.x12.remit835 import CLP_UNBALANCED, SVC_UNBALANCED, parse_835_tokens
from transforms.x12.tokenizer import Tokens, tokenize
from transforms.x12.values import ZERO, money_str


def _no_hash(_member_id: str | None) -> None:
    return None


def _money_by(keys: Iterable[str], amounts: Iterable[Decimal]) -> dict[str, str]:
    sums: dict[str, Decimal] = {}
    for k, a in zip(keys, amounts, strict=True):
        sums[k] = sums.get(k, ZERO) + a
    return {k: money_str(sums[k]) for k in sorted(sums)}


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "severity": f.severity,
        "code": f.code,
        "location": f.location,
        "message": f.message,
    }


def _error(exc: InputFileError) -> dict[str, Any]:
    return {"code": exc.code, "location": exc.location, "message": str(exc)}


def _format(tokens: Tokens, env: Envelope) -> dict[str, Any]:
    d = tokens.blocks[0].delimiters if tokens.blocks else None
    return {
        "element_sep": d.element if d else None,
        "component_sep": d.component if d else None,
        "segment_term": d.segment if d else None,
        "repetition_sep": d.repetition if d else None,
        "crlf": tokens.crlf,
        "bom": tokens.bom,
        "n_segments": len(tokens.segments),
        "has_isa": tokens.has_envelope,
        "n_isa": env.n_isa,
        "n_gs": env.n_gs_total,
        "st_types": dict(sorted(env.st_types.items())),
        "gs08_versions": list(env.gs08_versions),
    }


def summarize_835(parsed: ParsedFile) -> dict[str, Any]:
    """The ``x835`` part of a summary, from the parsed tables."""
    pays = parsed.tables["remit_payments"]
    clms = parsed.tables["remit_claims"]
    lines = parsed.tables["remit_lines"]
    adjs = parsed.tables["remit_adjustments"]
    plbs = parsed.tables["provider_adjustments"]
    status = clms["status_code"]
    paid = clms["paid_amount"]

    clp04_by_pay: dict[str, Decimal] = {}
    n_clp_by_pay: Counter[str] = Counter()
    for pid, amount in zip(clms["payment_id"], paid, strict=True):
        clp04_by_pay[pid] = clp04_by_pay.get(pid, ZERO) + amount
        n_clp_by_pay[pid] += 1
    plb_by_pay: dict[str, Decimal] = {}
    for pid, amount in zip(plbs["payment_id"], plbs["amount"], strict=True):
        plb_by_pay[pid] = plb_by_pay.get(pid, ZERO) + amount
    per_st = []
    for pid, st02, bpr01, bpr02 in zip(
        pays["payment_id"],
        pays["st_control_number"],
        pays["handling_code"],
        pays["payment_amount"],
        strict=True,
    ):
        s = clp04_by_pay.get(pid, ZERO)
        p = plb_by_pay.get(pid, ZERO)
        b = bpr02 if bpr02 is not None else ZERO
        per_st.append(
            {
                "st02": st02,
                "bpr01": bpr01,
                "bpr02": money_str(b),
                "n_clp": n_clp_by_pay[pid],
                "sum_clp04": money_str(s),
                "plb_total": money_str(p),
                "balanced": s - p == b,
            }
        )
    total_paid = sum(paid, ZERO)
    plb_total = sum(plbs["amount"], ZERO)
    bpr02_total = sum((b for b in pays["payment_amount"] if b is not None), ZERO)
    levels = adjs["adjustment_level"]
    groups = adjs["group_code"]
    amounts = adjs["amount"]
    claim_level = [
        (g, a)
        for g, lv, a in zip(groups, levels, amounts, strict=True)
        if lv == "claim"
    ]
    line_level = [
        (g, a) for g, lv, a in zip(groups, levels, amounts, strict=True) if lv == "line"
    ]
    codes = Counter(f.code for f in parsed.findings)
    payers: list[str] = []
    for name in pays["payer_name"]:
        if name and name not in payers:
            payers.append(name)
    return {
        "n_transactions": len(pays["payment_id"]),
        "n_claims": len(status),
        "clp02_counts": dict(sorted(Counter(status).items())),
        "total_charge_clp03": money_str(sum(clms["charge_amount"], ZERO)),
        "total_paid_clp04": money_str(total_paid),
        "cas_by_group": _money_by(groups, amounts),
        "plb_total": money_str(plb_total),
        "bpr02_total": money_str(bpr02_total),
        "balance_bpr02_eq_clp04_minus_plb": {
            "file_level": total_paid - plb_total == bpr02_total,
            "every_st": all(st["balanced"] for st in per_st),
        },
        "extra": {
            "n_denied_clp02_4": sum(1 for s in status if s == "4"),
            "n_reversal_clp02_22": sum(1 for s in status if s == "22"),
            "n_zero_paid_claims": sum(
                1 for s, p in zip(status, paid, strict=True) if p == 0 and s != "22"
            ),
            "n_distinct_clp01_clp07_pairs": len(
                set(zip(clms["claim_id"], clms["payer_claim_number"], strict=True))
            ),
            "total_patient_resp_clp05": money_str(
                sum((p for p in clms["patient_responsibility"] if p), ZERO)
            ),
            "cas_by_group_claim_level": _money_by(
                (g for g, _ in claim_level), (a for _, a in claim_level)
            ),
            "cas_by_group_service_level": _money_by(
                (g for g, _ in line_level), (a for _, a in line_level)
            ),
            "n_svc": len(lines["remit_line_id"]),
            "total_svc_charge_svc02": money_str(sum(lines["charge_amount"], ZERO)),
            "total_svc_paid_svc03": money_str(sum(lines["paid_amount"], ZERO)),
            "n_claims_unbalanced": codes[CLP_UNBALANCED],
            "n_svc_unbalanced": codes[SVC_UNBALANCED],
            "n_plb_segments": len(set(plbs["source_row"])),
            "payers": payers,
        },
        "per_st": per_st,
    }


def summarize_837(parsed: ParsedFile) -> dict[str, Any]:
    """The ``x837`` part of a summary, from the parsed tables."""
    clms = parsed.tables["claims"]
    lines = parsed.tables["claim_lines"]
    type_of = dict(zip(clms["source_row"], clms["claim_type"], strict=True))
    line_types = Counter(type_of.get(r) for r in lines["claim_source_row"])
    total = sum(clms["total_charge"], ZERO)
    line_total = sum(lines["line_charge"], ZERO)
    return {
        "n_claims_clm": len(clms["claim_id"]),
        "total_charge_clm02": money_str(total),
        "n_sv1": line_types["professional"],
        "n_sv2": line_types["institutional"],
        "n_sv3_dental": 0,
        "total_line_charge": money_str(line_total),
        "claim_frequency_codes": dict(sorted(Counter(clms["frequency_code"]).items())),
        "lines_sum_equals_claims_sum": total == line_total,
        "claim_types": dict(sorted(Counter(clms["claim_type"]).items())),
    }


def inspect_file(path: str | Path) -> dict[str, Any]:
    """Summary of one X12 file (see the module doc). Never raises for a bad file."""
    p = Path(path)
    summary: dict[str, Any] = {
        "file": str(p),
        "file_name": p.name,
        "errors": [],
        "findings": [],
    }
    try:
        data = p.read_bytes()
    except OSError as exc:
        summary["errors"].append(
            {
                "code": "unreadable",
                "location": None,
                "message": f"{p.name}: cannot read the file ({exc.strerror})",
            }
        )
        return summary
    sha = hashlib.sha256(data).hexdigest()
    summary.update({"size_bytes": len(data), "sha256": sha, "file_id": sha[:16]})
    try:
        tokens = tokenize(data, p.name)
        transaction = None
        for blk in tokens.blocks:
            for s in tokens.segments[blk.start : blk.end]:
                if s[:3] == "ST" + blk.delimiters.element:
                    transaction = s.split(blk.delimiters.element, 2)[1].strip()
                    break
            if transaction is not None:
                break
        if transaction == "837":
            parsed, bad, env = parse_837_tokens(
                tokens, p.name, sha[:16], _no_hash, lenient=True
            )
        else:  # the 835 parser reports a missing or unsupported transaction
            parsed, bad, env = parse_835_tokens(
                tokens, p.name, sha[:16], _no_hash, lenient=True
            )
    except InputFileError as exc:
        summary["errors"].append(_error(exc))
        return summary
    summary["kind"] = parsed.kind
    summary["transaction_type"] = transaction
    summary["versions"] = list(env.gs08_versions) or sorted(
        {
            v
            for v in (parsed.tables.get("remit_payments") or {}).get("x12_version", [])
            if v
        }
    )
    summary["version"] = summary["versions"][0] if summary["versions"] else None
    summary["format"] = _format(tokens, env)
    summary["rows_read"] = parsed.rows_read
    summary["rows_loaded"] = parsed.rows_loaded()
    if transaction == "837":
        summary["x837"] = summarize_837(parsed)
    else:
        summary["x835"] = summarize_835(parsed)
    summary["findings"] = [_finding(f) for f in parsed.findings]
    envelope = [f for f in parsed.findings if f.code in ENVELOPE_CODES]
    summary["envelope_findings"] = [_finding(f) for f in envelope]
    summary["structural_anomalies"] = [f.message for f in envelope]
    summary["bad_values"] = bad
    for location in bad:
        summary["errors"].append(
            {
                "code": "bad_value",
                "location": location,
                "message": f"{p.name}, {location}: not a valid value",
            }
        )
    return summary


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        p = Path(path)
        if p.is_dir():
            out.extend(
                sorted(
                    f
                    for f in p.rglob("*")
                    if f.is_file()
                    and not any(part.startswith(".") for part in f.relative_to(p).parts)
                )
            )
        else:
            out.append(p)
    return out


def inspect_paths(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Summaries of files; a directory stands for every (non-hidden) file below it."""
    return [inspect_file(p) for p in _expand(paths)]
