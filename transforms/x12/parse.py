"""Which X12 transaction a file holds, and the parser for it."""

from __future__ import annotations

from transforms.errors import InputFileError
from transforms.ingest.records import ParsedFile
from transforms.x12.claims837 import HashMemberId, parse_837_tokens
from transforms.x12.remit835 import parse_835_tokens
from transforms.x12.tokenizer import Tokens, tokenize

SUPPORTED = ("835", "837")


def first_transaction(tokens: Tokens) -> tuple[str, int] | None:
    """(ST01, segment number) of the first ST segment, or None when there is none."""
    segs = tokens.segments
    for blk in tokens.blocks:
        el = blk.delimiters.element
        for i in range(blk.start, blk.end):
            s = segs[i]
            if s[:2] == "ST" and s[2:3] == el:
                e = s.split(el, 2)
                return (e[1].strip() if len(e) > 1 else ""), i + 1
    return None


def transaction_of(tokens: Tokens, file_name: str) -> str:
    """'835' or '837'; InputFileError (unsupported_transaction / no_transactions) otherwise."""
    first = first_transaction(tokens)
    if first is None:
        raise InputFileError(
            file_name,
            None,
            "an 835 or 837 transaction (no ST segment)",
            code="no_transactions",
        )
    st01, seg_no = first
    if st01 not in SUPPORTED:
        shown = f" (found {st01})" if st01.isdigit() and len(st01) <= 3 else ""
        raise InputFileError(
            file_name,
            f"segment {seg_no} (ST), element ST01",
            f"an 835 or 837 transaction set{shown}",
            code="unsupported_transaction",
        )
    return st01


def parse_x12(
    data: bytes,
    file_name: str,
    file_id: str,
    hash_member_id: HashMemberId,
    *,
    arrow: bool = False,
) -> ParsedFile:
    """Parse an 835 or 837 file, whichever it holds (by its first ST01).

    ``arrow``: an 835's tables as ``pyarrow.Table`` (the columnar path of ``fast835``, same
    rows and errors; what the loader uses); an 837's stay lists."""
    if arrow:
        from transforms.x12 import fast835

        fast = fast835.try_parse_835_arrow(data, file_name, file_id, hash_member_id)
        if fast is not None:
            return fast
    tokens = tokenize(data, file_name)
    if transaction_of(tokens, file_name) == "835":
        parsed = parse_835_tokens(tokens, file_name, file_id, hash_member_id)[0]
        if arrow:
            from transforms.x12.fast835 import to_arrow

            parsed = to_arrow(parsed)
    else:
        parsed = parse_837_tokens(tokens, file_name, file_id, hash_member_id)[0]
    return parsed
