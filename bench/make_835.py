"""Deterministic, realistic and balanced 835 remittance files for benchmarks and tests.

Self-contained (no dependency on ``datagen``): ``make_835(size_bytes, seed)`` returns the bytes of
one file of about ``size_bytes`` (at least one transaction), ``write_835`` writes it, and
``write_small_files`` writes many small files. Same arguments, same bytes.

What a file holds: one ISA/GS, several ST transactions each from one of a few payers (N1*PR with
N3/N4/PER/REF*2U, N1*PE with its NPI), LX headers, claims (CLP with all nine elements, NM1*QC
with fake names and member ids, sometimes NM1*IL and NM1*82, MOA/MIA remarks, DTM*232/233/050,
AMT*AU), service lines (SVC with HC/NU/RB qualifiers and modifiers, DTM*472, CAS at line
level, REF*6R, AMT*B6, LQ*HE), institutional claims without lines with claim-level CAS, and
sometimes PLB provider adjustments. Every file balances: SVC02 - line CAS = SVC03, CLP03 - all
CAS of the claim = CLP04, sum CLP04 - PLB = BPR02; SE01, GE01 and IEA01 count right.

Run ``python bench/make_835.py OUT.835 --mb 50`` to write one file.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

LAST_NAMES = (
    "SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS", "RODRIGUEZ",
    "MARTINEZ", "HERNANDEZ", "LOPEZ", "GONZALEZ", "WILSON", "ANDERSON", "THOMAS", "TAYLOR",
    "MOORE", "JACKSON", "MARTIN", "LEE", "PEREZ", "THOMPSON", "WHITE", "HARRIS", "SANCHEZ",
)  # fmt: skip
FIRST_NAMES = (
    "JAMES", "MARY", "ROBERT", "PATRICIA", "JOHN", "JENNIFER", "MICHAEL", "LINDA", "DAVID",
    "ELIZABETH", "WILLIAM", "BARBARA", "RICHARD", "SUSAN", "JOSEPH", "JESSICA", "THOMAS", "SARAH",
)  # fmt: skip
PAYERS = (
    ("ACME HEALTH PLAN", "12345"),
    ("BLUE RIVER INSURANCE", "BRI01"),
    ("STATE MEDICAID", "77027"),
    ("MEDICARE PART B", "04402"),
    ("SUNRISE COMMERCIAL", "SUN99"),
    ("TRICOUNTY HMO", "TCH42"),
)
PAYEES = (
    ("REGIONAL HOPE HOSPITAL", "1234567893"),
    ("VALLEY FAMILY CLINIC", "1497758544"),
    ("NORTHSIDE ORTHOPEDICS", "1679576722"),
)
CPT = ("99213", "99214", "99203", "80053", "85025", "36415", "71046", "93000", "97110", "J1100", "G0008", "90686")
MODIFIERS = ("25", "59", "GT", "LT", "RT", "26", "TC")
REVENUE = ("0300", "0450", "0250", "0636", "0320", "0730")
DENIAL_CARCS = ("16", "18", "29", "50", "96", "97", "109", "197", "204", "252")
RARCS = ("N130", "M15", "N362", "MA130", "N20", "M80", "N4", "MA04")
FILING = ("12", "13", "HM", "MB", "MC", "CI", "BL")


def _money(cents: int, rng: random.Random) -> str:
    """Amounts as payers write them: ``125``, ``125.5``, ``125.50``, ``-3.27``."""
    sign = "-" if cents < 0 else ""
    c = abs(cents)
    whole, frac = divmod(c, 100)
    if frac == 0 and rng.random() < 0.5:
        return f"{sign}{whole}"
    if frac % 10 == 0 and rng.random() < 0.3:
        return f"{sign}{whole}.{frac // 10}"
    return f"{sign}{whole}.{frac:02d}"


def _date(rng: random.Random, year: int = 2024) -> str:
    return f"{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"


class _Writer:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.seed = seed
        self.n_claims = 0

    def isa(self, ctrl: int) -> list[str]:
        r = self.rng
        d = f"{r.randint(24, 25):02d}{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
        return [
            f"ISA*00*          *00*          *ZZ*{'PAYERSENDER':<15}*ZZ*{'PROVIDERRCV':<15}*{d}*1200*^*00501*{ctrl:09d}*0*P*:",
            f"GS*HP*PAYERSENDER*PROVIDERRCV*20{d}*1200*{ctrl}*X*005010X221A1",
        ]

    def line(self, claim_seq: int, n: int, out: list[str]) -> tuple[int, int, int]:
        """One SVC loop; (charge, paid, patient responsibility) in cents. Line CAS = charge - paid."""
        r = self.rng
        q = r.random()
        if q < 0.8:
            comp = f"HC:{r.choice(CPT)}"
            if r.random() < 0.35:
                comp += ":" + r.choice(MODIFIERS)
                if r.random() < 0.2:
                    comp += ":" + r.choice(MODIFIERS)
            rev = ""
        elif q < 0.9:
            comp = f"NU:{r.choice(REVENUE)}"
            rev = ""
        else:
            comp = f"HC:{r.choice(CPT)}"
            rev = r.choice(REVENUE)
        units = r.choice((1, 1, 1, 1, 2, 3, 4, 10))
        charge = r.randint(20, 900) * 100 + r.choice((0, 0, 50, 99, 25)) * units
        denied = r.random() < 0.12
        patresp = 0
        if denied:
            allowed = 0
            paid = 0
        else:
            allowed = charge * r.randint(40, 95) // 100
            patresp = allowed * r.choice((0, 0, 10, 20)) // 100
            paid = allowed - patresp
        el = ["SVC", comp, _money(charge, r), _money(paid, r), rev, str(units)]
        out.append("*".join(el).rstrip("*"))
        out.append(f"DTM*472*{_date(r)}")
        if denied:
            out.append(f"CAS*CO*{r.choice(DENIAL_CARCS)}*{_money(charge, r)}")
        else:
            co = charge - allowed
            pr = allowed - paid
            if co:
                out.append(f"CAS*CO*45*{_money(co, r)}")
            if pr:
                ded = pr // 2 if r.random() < 0.4 else 0
                if ded:
                    out.append(f"CAS*PR*1*{_money(ded, r)}**2*{_money(pr - ded, r)}*1")
                else:
                    out.append(f"CAS*PR*{r.choice(('1', '2', '3'))}*{_money(pr, r)}")
        out.append(f"REF*6R*{self.seed % 1000:03d}{claim_seq:07d}L{n}")
        if not denied:
            out.append(f"AMT*B6*{_money(allowed, r)}")
        if denied or r.random() < 0.15:
            out.append(f"LQ*HE*{r.choice(RARCS)}")
        return charge, paid, patresp

    def claim(self, out: list[str], paid_so_far: int) -> int:
        """One CLP loop; returns CLP04 in cents."""
        r = self.rng
        self.n_claims += 1
        seq = self.n_claims
        pcn = f"PCN{self.seed % 1000:03d}{seq:08d}"
        institutional = r.random() < 0.2
        body: list[str] = []
        last, first = r.choice(LAST_NAMES), r.choice(FIRST_NAMES)
        member = f"M{r.randint(10**8, 10**9 - 1)}"
        body.append(f"NM1*QC*1*{last}*{first}*{r.choice('ABCDEFGHJKLMN')}***MI*{member}")
        if r.random() < 0.3:
            body.append(f"NM1*IL*1*{r.choice(LAST_NAMES)}*{r.choice(FIRST_NAMES)}****MI*S{member[1:]}")
        if not institutional and r.random() < 0.5:
            body.append(f"NM1*82*1*{r.choice(LAST_NAMES)}*{r.choice(FIRST_NAMES)}****XX*1{r.randint(10**8, 10**9 - 1)}")
        if institutional:
            body.append(f"MIA*0***{_money(r.randint(100, 9000) * 100, r)}****{r.choice(RARCS)}")
        elif r.random() < 0.3:
            body.append(f"MOA***{r.choice(RARCS)}")
        frm = _date(r)
        body.append(f"DTM*232*{frm}")
        body.append(f"DTM*233*{frm[:6]}{min(int(frm[6:]) + r.randint(0, 3), 28):02d}")
        if r.random() < 0.4:
            body.append(f"DTM*050*{_date(r, 2025)}")
        if institutional:
            charge = r.randint(500, 90000) * 100 + r.randint(0, 99)
            allowed = charge * r.randint(30, 90) // 100
            patresp = allowed * r.choice((0, 10, 20)) // 100 if r.random() < 0.5 else 0
            paid = allowed - patresp
            cas = [f"CAS*CO*45*{_money(charge - allowed, r)}"]
            if patresp:
                cas.append(f"CAS*PR*1*{_money(patresp, r)}")
            body[0:0] = cas  # claim-level CAS come right after CLP
            body.append(f"AMT*AU*{_money(allowed, r)}")
            facility, freq = r.choice(("11", "13", "12")), "1"
        else:
            charge = paid = patresp = 0
            for n in range(1, r.choice((1, 1, 2, 2, 3, 4, 6)) + 1):
                c, p, pr = self.line(seq, n, body)
                charge += c
                paid += p
                patresp += pr
            facility, freq = r.choice(("11", "22", "12")), r.choice("1111117")
        status = "4" if paid == 0 else r.choice(("1", "1", "1", "2", "19"))
        if r.random() < 0.01 and 0 < paid < paid_so_far:
            status = "22"  # reversal: negative amounts, balanced the same
            charge, paid, patresp = -charge, -paid, -patresp
            body = [_negate(s) for s in body]
        out.append(
            f"CLP*{pcn}*{status}*{_money(charge, r)}*{_money(paid, r)}*{_money(patresp, r) if patresp else ''}"
            f"*{r.choice(FILING)}*{r.randint(10**12, 10**13 - 1)}*{facility}*{freq}"
        )
        out.extend(body)
        return paid

    def transaction(self, st_ctrl: int, n_claims: int) -> list[str]:
        r = self.rng
        payer, payer_id = r.choice(PAYERS)
        payee, npi = r.choice(PAYEES)
        claims: list[str] = []
        total = 0
        lx = 0
        for k in range(n_claims):
            if k % 25 == 0:
                lx += 1
                claims.append(f"LX*{lx}")
            total += self.claim(claims, total)
        plb: list[str] = []
        plb_total = 0
        if r.random() < 0.3:
            pairs = []
            for _ in range(r.choice((1, 1, 2))):
                a = r.randint(-5000, 20000)
                if total - plb_total - a < 0:
                    a = -abs(a)
                plb_total += a
                pairs.append(f"{r.choice(('WO', 'L6', 'FB', 'CS', 'AH'))}:REF{r.randint(1000, 9999)}*{_money(a, r)}")
            plb.append(f"PLB*{npi}*{r.randint(2024, 2025)}1231*" + "*".join(pairs))
        bpr = total - plb_total
        method = "ACH" if bpr > 0 else "NON"
        seg = [
            f"ST*835*{st_ctrl:04d}",
            f"BPR*{'I' if bpr > 0 else 'H'}*{_money(bpr, r)}*C*{method}*CCP*01*999999999*DA*123456789*1512345678**01*999988880*DA*98765*{_date(r, 2025)}",
            f"TRN*1*{r.randint(10**9, 10**10 - 1)}*1{payer_id.rjust(9, '0')}",
            f"DTM*405*{_date(r, 2025)}",
            f"N1*PR*{payer}",
            "N3*100 MAIN STREET",
            "N4*SPRINGFIELD*IL*62701",
            f"REF*2U*{payer_id}",
            f"PER*BL*CLAIMS DEPT*TE*800555{r.randint(1000, 9999)}",
            f"N1*PE*{payee}*XX*{npi}",
            f"REF*TJ*{r.randint(10**8, 10**9 - 1)}",
            *claims,
            *plb,
        ]
        seg.append(f"SE*{len(seg) + 1}*{st_ctrl:04d}")
        return seg


def _negate(seg: str) -> str:
    """Amounts of a reversal claim's segments, negated (CAS, SVC, AMT)."""
    e = seg.split("*")
    if e[0] == "SVC":
        e[2], e[3] = _neg(e[2]), _neg(e[3])
    elif e[0] == "CAS":
        for k in range(3, len(e), 3):
            e[k] = _neg(e[k])
    elif e[0] == "AMT":
        e[2] = _neg(e[2])
    return "*".join(e)


def _neg(s: str) -> str:
    if not s or s.strip("0.") == "":
        return s
    return s[1:] if s.startswith("-") else "-" + s


def make_835(size_bytes: int, seed: int = 835, claims_per_st: tuple[int, int] = (20, 400)) -> bytes:
    """One 835 file of about ``size_bytes`` (never less than one transaction), ``~`` terminated,
    one segment per line."""
    w = _Writer(seed)
    ctrl = 1 + seed % 100000
    segs = w.isa(ctrl)
    size = sum(len(s) + 2 for s in segs) + 40
    n_st = 0
    while True:
        n_st += 1
        st = w.transaction(n_st, w.rng.randint(*claims_per_st))
        segs.extend(st)
        size += sum(len(s) + 2 for s in st)
        if size >= size_bytes:
            break
    segs.append(f"GE*{n_st}*{ctrl}")
    segs.append(f"IEA*1*{ctrl:09d}")
    return ("~\n".join(segs) + "~\n").encode("ascii")


def write_835(path: Path, size_bytes: int, seed: int = 835) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(make_835(size_bytes, seed))
    return path


def write_small_files(folder: Path, n: int, seed: int = 1000) -> list[Path]:
    """``n`` small files (one ST, 1 to 12 claims each, about 0.5-10 KB) named ``r00000.835`` ..."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(n):
        p = folder / f"r{k:05d}.835"
        # a tiny size target: one transaction of a few claims
        p.write_bytes(make_835(1, seed + k, claims_per_st=(1, 12)))
        paths.append(p)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--mb", type=float, default=5.0, help="size in MB (10^6 bytes)")
    ap.add_argument("--seed", type=int, default=835)
    a = ap.parse_args()
    write_835(a.out, int(a.mb * 1e6), a.seed)
    print(f"{a.out}: {a.out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
