"""X12 text: 837P (005010X222A1) and 837I (005010X223A2) claims, 835 (005010X221A1) remittances.

Claim and claim-payment loops are rendered as soon as they are simulated and spooled to disk by
file (:class:`datagen.spool.Spool`); the envelopes (ISA/GS/ST ... SE/GE/IEA), the hierarchical
level numbers of the 837, and the BPR/PLB of the 835 are written when a file is complete.
Segments end with ``~`` and a newline. Dates in ISA/GS/BHT/BPR come from the data (submission or
payment date), never from the clock, and the time is always 12:00.
"""

from __future__ import annotations

from collections.abc import Iterable

from datagen import reference as ref
from datagen.dates import d8
from datagen.model import Adjudication, PatientPool, Submission

VERSION_837P = "005010X222A1"
VERSION_837I = "005010X223A2"
VERSION_835 = "005010X221A1"
T = "~\n"


_MONEY: dict[int, str] = {}


def money(cents: int) -> str:
    """Cents as a plain decimal with two places: 1234.50, -20.00, 0.00."""
    text = _MONEY.get(cents)
    if text is None:
        q, r = divmod(abs(cents), 100)
        text = f"{'-' if cents < 0 else ''}{q}.{r:02d}"
        if len(_MONEY) > 500_000:
            _MONEY.clear()
        _MONEY[cents] = text
    return text


def cas_segments(adjustments: Iterable[tuple[str, str, int]]) -> str:
    """CAS segments, one per group code (and per six reasons), in order of first appearance."""
    by_group: dict[str, list[tuple[str, int]]] = {}
    for g, c, a in adjustments:
        by_group.setdefault(g, []).append((c, a))
    out = []
    for g, items in by_group.items():
        for k in range(0, len(items), 6):
            out.append(
                "CAS*"
                + g
                + "*"
                + "**".join(f"{c}*{money(a)}" for c, a in items[k : k + 6])
                + T
            )
    return "".join(out)


def _isa(sender: str, receiver: str, date_ord: int, control: int) -> str:
    return (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{sender:<15}*ZZ*{receiver:<15}*{d8(date_ord)[2:]}*1200*^*00501*"
        f"{control:09d}*0*T*:{T}"
    )


# --------------------------------------------------------------------------------------------
# 837
# --------------------------------------------------------------------------------------------


class ClaimRenderer:
    """Renders one submission as the subscriber (2000B) loop of an 837P or 837I.

    The HL number is left as ``#`` and filled in when the file is assembled.
    """

    def __init__(self, pool: PatientPool) -> None:
        self.org = ref.organisation()
        self._birth_ord = pool.birth_ord
        self._female = pool.female

    def render(self, s: Submission) -> str:
        payer = ref.PAYERS[s.payer]
        p = s.patient
        pool = PatientPool
        org = self.org
        inst = s.institutional
        last, first = pool.last_name(p), pool.first_name(p)
        parts = [
            "HL*#*1*22*0" + T,
            f"SBR*P*18*******{payer.sbr09_inst if inst else payer.sbr09_prof}{T}",
            f"NM1*IL*1*{last}*{first}****MI*{pool.member_id(p)}{T}",
            f"N3*{pool.street(p)}{T}",
            f"N4*SPRINGFIELD*IL*62704{T}",
            f"DMG*D8*{d8(int(self._birth_ord[p]))}*{'F' if self._female[p] else 'M'}{T}",
            f"NM1*PR*2*{payer.name}*****PI*{payer.payer_id}{T}",
        ]
        if inst:
            parts.append(
                f"CLM*{s.claim_id}*{money(s.charge)}***13:A:{s.frequency}**A*Y*Y{T}"
            )
            parts.append(f"DTP*434*RD8*{d8(s.from_ord)}-{d8(s.to_ord)}{T}")
            parts.append("CL1*3*1*01" + T)
        else:
            parts.append(
                f"CLM*{s.claim_id}*{money(s.charge)}***{s.place_of_service}:B:{s.frequency}*Y*A*Y*Y{T}"
            )
        if s.prior_auth:
            parts.append(f"REF*G1*{s.prior_auth}{T}")
        if s.original_icn:
            parts.append(f"REF*F8*{s.original_icn}{T}")
        dx = [c.replace(".", "") for c in s.diagnoses]
        if inst:
            parts.append(f"HI*ABK:{dx[0]}{T}")
            if len(dx) > 1:
                parts.append("HI*" + "*".join(f"ABF:{c}" for c in dx[1:]) + T)
        else:
            parts.append("HI*ABK:" + dx[0] + "".join(f"*ABF:{c}" for c in dx[1:]) + T)
        if s.provider >= 0:
            prov = org.providers[s.provider]
            if inst:
                parts.append(f"NM1*71*1*{prov.last}*{prov.first}****XX*{prov.npi}{T}")
                parts.append(f"PRV*AT*PXC*{prov.taxonomy}{T}")
            else:
                parts.append(f"NM1*82*1*{prov.last}*{prov.first}****XX*{prov.npi}{T}")
                parts.append(f"PRV*PE*PXC*{prov.taxonomy}{T}")
        loc = org.locations[s.location]
        street, city, state, zip_code = loc.address
        parts.append(
            f"NM1*77*2*{loc.name}*****XX*{loc.npi}{T}N3*{street}{T}N4*{city}*{state}*{zip_code}{T}"
        )
        if s.secondary >= 0:
            sec = ref.PAYERS[s.secondary]
            parts.append(
                f"SBR*S*18*******{sec.sbr09_inst if inst else sec.sbr09_prof}{T}OI***Y***Y{T}"
                f"NM1*IL*1*{last}*{first}****MI*{pool.secondary_member_id(p)}{T}"
                f"NM1*PR*2*{sec.name}*****PI*{sec.payer_id}{T}"
            )
        ptr = "1:2" if len(dx) > 1 else "1"
        for line in s.lines:
            proc = ref.PROCEDURES[line.proc]
            comp = (
                f"HC:{proc.code}:{line.modifier}"
                if line.modifier
                else f"HC:{proc.code}"
            )
            if inst:
                sv = f"SV2*{proc.revenue_code}*{comp}*{money(line.charge)}*UN*{line.units}{T}"
            else:
                sv = f"SV1*{comp}*{money(line.charge)}*UN*{line.units}***{ptr}{T}"
            parts.append(
                f"LX*{line.line_number}{T}{sv}DTP*472*D8*{d8(line.service_ord)}{T}"
                f"REF*6R*{s.claim_id}-{line.line_number}{T}"
            )
        return "".join(parts)


def envelope_837(institutional: bool, date_ord: int, body: str, control: int) -> str:
    """A whole 837 file (one ISA/GS/ST) around spooled subscriber loops."""
    org = ref.organisation()
    be = org.billing["FAC" if institutional else "PRO"]
    version = VERSION_837I if institutional else VERSION_837P
    sub_name, sub_id, contact, phone = ref.SUBMITTER
    rcv_name, rcv_id = ref.CLEARINGHOUSE
    day = d8(date_ord)
    street, city, state, zip_code = be.address
    head = (
        f"ST*837*0001*{version}{T}"
        f"BHT*0019*00*{'I' if institutional else 'P'}{day}*{day}*1200*CH{T}"
        f"NM1*41*2*{sub_name}*****46*{sub_id}{T}"
        f"PER*IC*{contact}*TE*{phone}{T}"
        f"NM1*40*2*{rcv_name}*****46*{rcv_id}{T}"
        f"HL*1**20*1{T}"
        f"PRV*BI*PXC*{be.taxonomy}{T}"
        f"NM1*85*2*{be.name}*****XX*{be.npi}{T}"
        f"N3*{street}{T}"
        f"N4*{city}*{state}*{zip_code}{T}"
        f"REF*EI*{be.tin}{T}"
    )
    chunks = body.split("HL*#*")
    numbered = chunks[0] + "".join(f"HL*{k + 2}*{c}" for k, c in enumerate(chunks[1:]))
    n_seg = head.count("~") + numbered.count("~") + 1
    return (
        _isa(sub_id, rcv_id, date_ord, control)
        + f"GS*HC*{sub_id}*{rcv_id}*{day}*1200*{control}*X*{version}{T}"
        + head
        + numbered
        + f"SE*{n_seg}*0001{T}GE*1*{control}{T}IEA*1*{control:09d}{T}"
    )


# --------------------------------------------------------------------------------------------
# 835
# --------------------------------------------------------------------------------------------


def trace_number(payer: int, payee: str, date_ord: int) -> str:
    return f"{ref.PAYERS[payer].trace_prefix}{d8(date_ord)}{1 if payee == 'PRO' else 2}"


def render_claim_payment(a: Adjudication) -> str:
    """One 2100 loop (CLP ... and its 2110 service lines)."""
    payer = ref.PAYERS[a.payer]
    p = a.patient
    pr = money(a.patient_resp) if a.patient_resp else ""
    clp06 = payer.clp06_inst if a.payee == "FAC" and payer.clp06_inst else payer.clp06
    clp = (
        f"CLP*{a.claim_id}*{a.status}*{money(a.charge)}*{money(a.paid)}*{pr}*{clp06}*{a.icn}*"
        f"{a.facility_code}*{a.frequency}{T}"
    )
    parts = [clp]
    if a.claim_adjustments:
        parts.append(cas_segments(a.claim_adjustments))
    parts.append(
        f"NM1*QC*1*{PatientPool.last_name(p)}*{PatientPool.first_name(p)}****MI*{a.member_id}{T}"
    )
    if a.remarks:
        parts.append("MOA***" + "*".join(a.remarks[:5]) + T)
    parts.append(f"DTM*232*{d8(a.from_ord)}{T}")
    if a.to_ord != a.from_ord:
        parts.append(f"DTM*233*{d8(a.to_ord)}{T}")
    parts.append(f"DTM*050*{d8(a.received_ord)}{T}")
    inst = a.payee == "FAC"
    for x in a.lines:
        proc = ref.PROCEDURES[x.proc]
        comp = f"HC:{proc.code}:{x.modifier}" if x.modifier else f"HC:{proc.code}"
        rev = proc.revenue_code if inst else ""
        parts.append(
            f"SVC*{comp}*{money(x.charge)}*{money(x.paid)}*{rev}*{x.units}{T}DTM*472*{d8(x.service_ord)}{T}"
        )
        if x.adjustments:
            parts.append(cas_segments(x.adjustments))
        parts.append(f"REF*6R*{a.claim_id}-{x.line_number}{T}")
        if x.allowed != -1:
            parts.append(f"AMT*B6*{money(x.allowed)}{T}")
        for r in x.remarks:
            parts.append(f"LQ*HE*{r}{T}")
    return "".join(parts)


def plb_segments(npi: str, date_ord: int, pairs: list[tuple[str, str, int]]) -> str:
    """PLB segments with up to six (reason, reference, amount) pairs each."""
    out = []
    period = f"{d8(date_ord)[:4]}1231"
    for k in range(0, len(pairs), 6):
        out.append(
            f"PLB*{npi}*{period}*"
            + "*".join(f"{r}:{ref_id}*{money(a)}" for r, ref_id, a in pairs[k : k + 6])
            + T
        )
    return "".join(out)


def transaction_835(
    payer_idx: int,
    payee: str,
    date_ord: int,
    st_number: int,
    body: str,
    plb: list[tuple[str, str, int]],
    total_paid: int,
) -> tuple[str, int]:
    """One ST..SE; returns the text and BPR02 in cents."""
    payer = ref.PAYERS[payer_idx]
    be = ref.organisation().billing[payee]
    day = d8(date_ord)
    bpr02 = total_paid - sum(a for _, _, a in plb)
    if bpr02 > 0:
        bpr = (
            f"BPR*I*{money(bpr02)}*C*ACH*CCP*01*{payer.routing}*DA*{payer.account}*1{payer.tin}**01*"
            f"{be.routing}*DA*{be.account}*{day}{T}"
        )
    else:
        bpr = f"BPR*H*{money(bpr02)}*C*NON************{day}{T}"
    p_street, p_city, p_state, p_zip = payer.address
    e_street, e_city, e_state, e_zip = be.address
    st = f"{st_number:04d}"
    head = (
        f"ST*835*{st}{T}"
        + bpr
        + f"TRN*1*{trace_number(payer_idx, payee, date_ord)}*1{payer.tin}{T}"
        f"DTM*405*{day}{T}"
        f"N1*PR*{payer.name}*XV*{payer.payer_id}{T}"
        f"N3*{p_street}{T}"
        f"N4*{p_city}*{p_state}*{p_zip}{T}"
        f"REF*2U*{payer.payer_id}{T}"
        f"PER*BL*PROVIDER SERVICES*TE*800555{payer.tin[-4:]}{T}"
        f"N1*PE*{be.name}*XX*{be.npi}{T}"
        f"N3*{e_street}{T}"
        f"N4*{e_city}*{e_state}*{e_zip}{T}"
        f"REF*TJ*{be.tin}{T}"
    )
    lx = f"LX*1{T}" if body else ""
    tail = plb_segments(be.npi, date_ord, plb)
    n_seg = head.count("~") + lx.count("~") + body.count("~") + tail.count("~") + 1
    return head + lx + body + tail + f"SE*{n_seg}*{st}{T}", bpr02


def envelope_835(
    payer_idx: int, date_ord: int, transactions: list[str], control: int
) -> str:
    payer = ref.PAYERS[payer_idx]
    rcv = ref.SUBMITTER[1]
    return (
        _isa(payer.payer_id, rcv, date_ord, control)
        + f"GS*HP*{payer.payer_id}*{rcv}*{d8(date_ord)}*1200*{control}*X*{VERSION_835}{T}"
        + "".join(transactions)
        + f"GE*{len(transactions)}*{control}{T}IEA*1*{control:09d}{T}"
    )
