"""Reference data of the synthetic health system: payers, departments, locations, providers, the
charge master, ICD-10 lists, denial reasons (CARC plans) and what happens to each kind of denial.

Everything here is fixed (it does not depend on the run's seed), so two runs with different seeds
describe the same organisation. All names, addresses, tax ids and account numbers are fictitious.
Money is in integer cents.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from datagen.npi import make_npis

CARC_TABLE = (
    Path(__file__).resolve().parent.parent
    / "transforms"
    / "reference"
    / "carc_categories.csv"
)

# --------------------------------------------------------------------------------------------
# Payers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payer:
    """A payer and how it behaves. Rates are basis points, money cents, lags days."""

    payer_id: str
    name: str
    payer_type: str  # medicare | medicaid | commercial | other | self_pay
    share: float  # share of patients whose primary coverage this is
    sbr09_prof: str = ""  # claim filing indicator on the 837 (SBR09)
    sbr09_inst: str = ""
    clp06: str = ""  # claim filing indicator on the 835 (CLP06)
    clp06_inst: str = ""  # ... for institutional claims, when it differs
    # fee schedule as a share of billed charges (before a per-code factor)
    rate_bp: int = 0
    lag_min: int = 0  # days from submission to the earliest adjudication
    lag_extra: float = 0.0  # mean extra days (gamma, shape 2)
    pay_weekdays: tuple[int, ...] = ()  # weekdays (Mon=0) on which it pays / sends ERAs
    filing_limit: int = 365  # timely filing limit in days from service
    # probability of an initial denial, before department factors
    denial_base: float = 0.0
    # share of full denials sent as CLP02=4 (the others: CLP02=1 with nothing paid)
    status4_share: float = 0.0
    # prompt-pay interest (PLB L6) on claims paid more than 30 days after receipt
    pays_interest: bool = False
    deductible_p: float = 0.0  # probability a claim meets a deductible (PR-1)
    coinsurance_bp: int = 0  # coinsurance rate (PR-2)
    coinsurance_p: float = 0.0  # probability coinsurance applies (plan designs vary)
    copay: int = 0  # office-visit copay (PR-3) on the first E/M line
    copay_p: float = 0.0
    sequestration: bool = False  # Medicare 2% payment reduction (CO-253)
    # adjudicates institutional claims at claim level (no SVC loops)
    claim_level_institutional: bool = False
    # share of its denials by root-cause category
    category_mix: dict[str, float] = field(default_factory=dict)
    tin: str = ""
    routing: str = ""
    account: str = ""
    address: tuple[str, str, str, str] = ("", "", "", "")  # street, city, state, zip
    trace_prefix: str = ""  # first digits of its EFT trace numbers
    icn_prefix: str = ""  # first letters of its claim control numbers (CLP07)


_MIX_MEDICARE = {
    "eligibility_registration": 0.12,
    "coordination_of_benefits": 0.08,
    "authorization_referral": 0.02,
    "missing_invalid_information": 0.14,
    "coding": 0.14,
    "documentation": 0.06,
    "medical_necessity": 0.20,
    "non_covered_benefit_limit": 0.09,
    "bundling_ncci": 0.10,
    "duplicate": 0.04,
    "timely_filing": 0.01,
    "network_credentialing": 0.00,
}
_MIX_MEDICAID = {
    "eligibility_registration": 0.30,
    "coordination_of_benefits": 0.10,
    "authorization_referral": 0.10,
    "missing_invalid_information": 0.12,
    "coding": 0.09,
    "documentation": 0.04,
    "medical_necessity": 0.06,
    "non_covered_benefit_limit": 0.08,
    "bundling_ncci": 0.05,
    "duplicate": 0.03,
    "timely_filing": 0.01,
    "network_credentialing": 0.02,
}
_MIX_COMMERCIAL = {
    "eligibility_registration": 0.18,
    "coordination_of_benefits": 0.06,
    "authorization_referral": 0.16,
    "missing_invalid_information": 0.10,
    "coding": 0.10,
    "documentation": 0.05,
    "medical_necessity": 0.10,
    "non_covered_benefit_limit": 0.08,
    "bundling_ncci": 0.08,
    "duplicate": 0.04,
    "timely_filing": 0.01,
    "network_credentialing": 0.04,
}
_MIX_HMO = dict(
    _MIX_COMMERCIAL,
    authorization_referral=0.22,
    network_credentialing=0.10,
    eligibility_registration=0.14,
)
_MIX_WC = dict(
    _MIX_COMMERCIAL,
    authorization_referral=0.25,
    eligibility_registration=0.20,
    medical_necessity=0.15,
)

PAYERS: tuple[Payer, ...] = (
    Payer(
        "MCR01",
        "MEDICARE ADMINISTRATIVE CONTRACTOR J99",
        "medicare",
        0.30,
        "MB",
        "MA",
        "MB",
        "MA",
        rate_bp=3900,
        lag_min=14,
        lag_extra=4.0,
        pay_weekdays=(0, 1, 2, 3, 4),
        filing_limit=365,
        denial_base=0.065,
        status4_share=0.10,
        pays_interest=True,
        deductible_p=0.06,
        coinsurance_bp=2000,
        coinsurance_p=1.0,
        sequestration=True,
        claim_level_institutional=True,
        category_mix=_MIX_MEDICARE,
        tin="990000001",
        routing="099900001",
        account="7000000001",
        address=("PO BOX 990001", "SPRINGFIELD", "IL", "627010001"),
        trace_prefix="51",
        icn_prefix="MA",
    ),
    Payer(
        "MCD01",
        "STATE MEDICAID PROGRAM",
        "medicaid",
        0.14,
        "MC",
        "MC",
        "MC",
        rate_bp=3000,
        lag_min=21,
        lag_extra=14.0,
        pay_weekdays=(2,),
        filing_limit=180,
        denial_base=0.12,
        status4_share=0.50,
        copay=300,
        copay_p=0.30,
        category_mix=_MIX_MEDICAID,
        tin="990000002",
        routing="099900002",
        account="7000000002",
        address=("PO BOX 990002", "SPRINGFIELD", "IL", "627010002"),
        trace_prefix="52",
        icn_prefix="MD",
    ),
    Payer(
        "NSH01",
        "NORTHSTAR HEALTH PLAN",
        "commercial",
        0.16,
        "CI",
        "CI",
        "12",
        rate_bp=6200,
        lag_min=7,
        lag_extra=12.0,
        pay_weekdays=(1, 4),
        filing_limit=90,
        denial_base=0.09,
        status4_share=0.10,
        pays_interest=True,
        deductible_p=0.15,
        coinsurance_bp=2000,
        coinsurance_p=0.5,
        copay=3000,
        copay_p=0.75,
        category_mix=_MIX_COMMERCIAL,
        tin="990000003",
        routing="099900003",
        account="7000000003",
        address=("PO BOX 990003", "CHICAGO", "IL", "606010003"),
        trace_prefix="53",
        icn_prefix="NS",
    ),
    Payer(
        "LKM01",
        "LAKESHORE MUTUAL INSURANCE",
        "commercial",
        0.11,
        "CI",
        "CI",
        "12",
        rate_bp=5800,
        lag_min=10,
        lag_extra=10.0,
        pay_weekdays=(3,),
        filing_limit=180,
        denial_base=0.085,
        status4_share=0.15,
        pays_interest=True,
        deductible_p=0.12,
        coinsurance_bp=2000,
        coinsurance_p=0.6,
        copay=2500,
        copay_p=0.7,
        category_mix=_MIX_COMMERCIAL,
        tin="990000004",
        routing="099900004",
        account="7000000004",
        address=("PO BOX 990004", "MILWAUKEE", "WI", "532010004"),
        trace_prefix="54",
        icn_prefix="LK",
    ),
    Payer(
        "PNC01",
        "PINNACLE CARE HMO",
        "commercial",
        0.09,
        "HM",
        "HM",
        "HM",
        rate_bp=5200,
        lag_min=7,
        lag_extra=14.0,
        pay_weekdays=(0,),
        filing_limit=90,
        denial_base=0.11,
        status4_share=0.20,
        pays_interest=True,
        deductible_p=0.05,
        coinsurance_bp=1000,
        coinsurance_p=0.3,
        copay=4000,
        copay_p=0.85,
        category_mix=_MIX_HMO,
        tin="990000005",
        routing="099900005",
        account="7000000005",
        address=("PO BOX 990005", "INDIANAPOLIS", "IN", "462010005"),
        trace_prefix="55",
        icn_prefix="PC",
    ),
    Payer(
        "EVB01",
        "EVERGREEN BENEFIT ADMINISTRATORS",
        "commercial",
        0.06,
        "CI",
        "CI",
        "15",
        rate_bp=7000,
        lag_min=12,
        lag_extra=18.0,
        pay_weekdays=(2,),
        filing_limit=365,
        denial_base=0.08,
        status4_share=0.10,
        pays_interest=True,
        deductible_p=0.20,
        coinsurance_bp=2000,
        coinsurance_p=0.7,
        copay=3500,
        copay_p=0.6,
        category_mix=_MIX_COMMERCIAL,
        tin="990000006",
        routing="099900006",
        account="7000000006",
        address=("PO BOX 990006", "DES MOINES", "IA", "503010006"),
        trace_prefix="56",
        icn_prefix="EV",
    ),
    Payer(
        "HBV01",
        "HARBORVIEW HEALTH PLAN",
        "commercial",
        0.05,
        "CI",
        "CI",
        "13",
        rate_bp=6000,
        lag_min=8,
        lag_extra=10.0,
        pay_weekdays=(1,),
        filing_limit=120,
        denial_base=0.10,
        status4_share=0.10,
        pays_interest=True,
        deductible_p=0.10,
        coinsurance_bp=1500,
        coinsurance_p=0.5,
        copay=2000,
        copay_p=0.7,
        category_mix=_MIX_COMMERCIAL,
        tin="990000007",
        routing="099900007",
        account="7000000007",
        address=("PO BOX 990007", "DETROIT", "MI", "482010007"),
        trace_prefix="57",
        icn_prefix="HB",
    ),
    Payer(
        "TCW01",
        "TRI-COUNTY WORKERS COMPENSATION FUND",
        "other",
        0.02,
        "WC",
        "WC",
        "WC",
        rate_bp=8000,
        lag_min=20,
        lag_extra=25.0,
        pay_weekdays=(4,),
        filing_limit=365,
        denial_base=0.14,
        status4_share=0.30,
        category_mix=_MIX_WC,
        tin="990000008",
        routing="099900008",
        account="7000000008",
        address=("PO BOX 990008", "PEORIA", "IL", "616010008"),
        trace_prefix="58",
        icn_prefix="WC",
    ),
    Payer("SELF", "SELF PAY", "self_pay", 0.07),
)

PAYER_INDEX = {p.payer_id: i for i, p in enumerate(PAYERS)}
SELF_PAY = PAYER_INDEX["SELF"]

# Secondary coverage: (primary payer, probability, [(secondary payer, weight)])
SECONDARY_COVERAGE: dict[str, tuple[float, tuple[tuple[str, float], ...]]] = {
    "MCR01": (
        0.35,
        (("MCD01", 0.45), ("LKM01", 0.55)),
    ),  # dual eligibles and a Medigap-style plan
    "NSH01": (0.03, (("EVB01", 1.0),)),
    "LKM01": (0.03, (("NSH01", 1.0),)),
    "EVB01": (0.03, (("NSH01", 1.0),)),
}
SECONDARY_PAY_SHARE = {
    "MCD01": 0.85
}  # share of the primary's patient balance a secondary pays

# --------------------------------------------------------------------------------------------
# The provider organisation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    code: str
    name: str  # as on the 837 (NM1*77)
    label: str  # as in the CSV location column
    is_facility: bool  # can bill institutional (UB-04 / 837I) claims
    address: tuple[str, str, str, str]
    npi: str = ""


@dataclass(frozen=True)
class BillingEntity:
    key: str  # "PRO" professional group, "FAC" hospital
    name: str
    npi: str
    tin: str
    taxonomy: str
    address: tuple[str, str, str, str]
    routing: str
    account: str


@dataclass(frozen=True)
class Procedure:
    code: str
    price: int  # charge-master price per unit, cents
    units: tuple[int, int]  # units drawn uniformly in [lo, hi]
    revenue_code: str  # for institutional lines
    kind: str  # em | lab | img | proc | drug | ther | beh
    modifiers: tuple[str, ...] = ("",)  # one is chosen per line ("" = none)


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    weight: float
    institutional_share: float
    locations: tuple[tuple[str, float], ...]
    place_of_service: str  # professional claims
    taxonomy: str  # provider specialty taxonomy code
    procedures: tuple[tuple[str, float], ...]  # (code, weight)
    lines: tuple[tuple[int, float], ...]  # number of lines on a claim: (count, weight)
    diagnoses: tuple[str, ...]  # ICD-10-CM with the dot
    denial_factor: float  # multiplies the payer's denial base rate
    category_factor: dict[str, float] = field(default_factory=dict)
    needs_auth: bool = False  # high-cost services that commercial payers pre-authorise


LOCATIONS: tuple[Location, ...] = (
    Location(
        "MAIN",
        "ZZ SYNTHETIC MAIN CAMPUS HOSPITAL",
        "Main Campus Hospital",
        True,
        ("100 SYNTHETIC WAY", "SPRINGFIELD", "IL", "627010100"),
    ),
    Location(
        "NORTH",
        "ZZ SYNTHETIC NORTH FAMILY CLINIC",
        "North Family Clinic",
        False,
        ("2200 NORTH TEST RD", "SPRINGFIELD", "IL", "627020200"),
    ),
    Location(
        "EAST",
        "ZZ SYNTHETIC EAST SPECIALTY CLINIC",
        "East Specialty Clinic",
        False,
        ("300 EAST SAMPLE AVE", "SPRINGFIELD", "IL", "627030300"),
    ),
    Location(
        "SOUTH",
        "ZZ SYNTHETIC SOUTH COMMUNITY CLINIC",
        "South Community Clinic",
        False,
        ("4400 SOUTH DEMO ST", "SPRINGFIELD", "IL", "627040400"),
    ),
    Location(
        "WEST",
        "ZZ SYNTHETIC WEST SURGERY AND IMAGING",
        "West Surgery and Imaging Center",
        True,
        ("500 WEST EXAMPLE BLVD", "SPRINGFIELD", "IL", "627050500"),
    ),
)
LOCATION_INDEX = {loc.code: i for i, loc in enumerate(LOCATIONS)}

PROCEDURES: tuple[Procedure, ...] = (
    # evaluation and management
    Procedure("99203", 24000, (1, 1), "0510", "em"),
    Procedure("99204", 35000, (1, 1), "0510", "em"),
    Procedure("99213", 18500, (1, 1), "0510", "em", ("", "", "25")),
    Procedure("99214", 26500, (1, 1), "0510", "em", ("", "", "25")),
    Procedure("99215", 36000, (1, 1), "0510", "em"),
    Procedure("99396", 31000, (1, 1), "0510", "em"),
    Procedure("G0439", 26000, (1, 1), "0510", "em"),
    Procedure("99283", 78000, (1, 1), "0450", "em"),
    Procedure("99284", 135000, (1, 1), "0450", "em"),
    Procedure("99285", 245000, (1, 1), "0450", "em"),
    # laboratory
    Procedure("36415", 2500, (1, 1), "0300", "lab"),
    Procedure("80053", 21000, (1, 1), "0301", "lab"),
    Procedure("85025", 12000, (1, 1), "0305", "lab"),
    Procedure("80061", 16000, (1, 1), "0301", "lab"),
    Procedure("83036", 9500, (1, 1), "0301", "lab"),
    Procedure("84443", 14000, (1, 1), "0301", "lab"),
    Procedure("81001", 4500, (1, 1), "0300", "lab"),
    Procedure("87086", 8500, (1, 1), "0306", "lab"),
    # imaging
    Procedure("71046", 21000, (1, 1), "0324", "img"),
    Procedure("73562", 21000, (1, 1), "0320", "img", ("RT", "LT")),
    Procedure("70450", 125000, (1, 1), "0350", "img"),
    Procedure("74177", 310000, (1, 1), "0350", "img"),
    Procedure("72148", 235000, (1, 1), "0610", "img"),
    Procedure("73721", 220000, (1, 1), "0610", "img", ("RT", "LT")),
    Procedure("77067", 42000, (1, 1), "0403", "img"),
    Procedure("76700", 69000, (1, 1), "0402", "img"),
    Procedure("93306", 145000, (1, 1), "0483", "img"),
    # cardiology tests
    Procedure("93000", 9500, (1, 1), "0730", "proc"),
    Procedure("93015", 52000, (1, 1), "0482", "proc"),
    Procedure("93880", 62000, (1, 1), "0921", "img"),
    # orthopaedics and surgery
    Procedure("20610", 31000, (1, 1), "0510", "proc", ("RT", "LT")),
    Procedure("J3301", 2500, (1, 4), "0636", "drug"),
    Procedure("29881", 520000, (1, 1), "0360", "proc", ("RT", "LT")),
    Procedure("64721", 410000, (1, 1), "0360", "proc", ("RT", "LT")),
    Procedure("L3908", 9500, (1, 1), "0274", "proc"),
    Procedure("45378", 280000, (1, 1), "0360", "proc"),
    Procedure("43239", 310000, (1, 1), "0360", "proc"),
    Procedure("66984", 620000, (1, 1), "0360", "proc", ("RT", "LT")),
    Procedure("47562", 1450000, (1, 1), "0360", "proc"),
    Procedure("49505", 780000, (1, 1), "0360", "proc"),
    Procedure("12002", 65000, (1, 1), "0450", "proc"),
    Procedure("96374", 42000, (1, 1), "0260", "ther"),
    # physical therapy
    Procedure("97110", 9500, (1, 4), "0420", "ther", ("GP",)),
    Procedure("97140", 9000, (1, 2), "0420", "ther", ("GP",)),
    Procedure("97112", 10000, (1, 2), "0420", "ther", ("GP",)),
    Procedure("97161", 26000, (1, 1), "0424", "ther", ("GP",)),
    Procedure("97530", 11000, (1, 3), "0420", "ther", ("GP",)),
    # oncology
    Procedure("96413", 98000, (1, 1), "0335", "ther"),
    Procedure("96415", 29000, (1, 3), "0335", "ther"),
    Procedure("96375", 24000, (1, 2), "0260", "ther"),
    Procedure("J9045", 18000, (2, 8), "0636", "drug"),
    Procedure("J2405", 3000, (1, 8), "0636", "drug"),
    Procedure("J1100", 1200, (4, 20), "0636", "drug"),
    # behavioural health
    Procedure("90791", 32000, (1, 1), "0900", "beh"),
    Procedure("90834", 19000, (1, 1), "0914", "beh", ("", "", "95")),
    Procedure("90837", 26000, (1, 1), "0914", "beh", ("", "95")),
    Procedure("90853", 11000, (1, 1), "0915", "beh"),
    # vaccines
    Procedure("90471", 3500, (1, 1), "0771", "proc"),
    Procedure("90686", 4500, (1, 1), "0636", "drug"),
)
PROC_INDEX = {p.code: i for i, p in enumerate(PROCEDURES)}

DEPARTMENTS: tuple[Department, ...] = (
    Department(
        "PRIMARY_CARE",
        "Primary Care",
        0.21,
        0.0,
        (("NORTH", 0.4), ("EAST", 0.2), ("SOUTH", 0.4)),
        "11",
        "207Q00000X",
        (
            ("99213", 30),
            ("99214", 22),
            ("99215", 4),
            ("99203", 5),
            ("99204", 3),
            ("99396", 6),
            ("G0439", 4),
            ("36415", 8),
            ("81001", 4),
            ("90471", 5),
            ("90686", 5),
            ("93000", 4),
        ),
        ((1, 0.45), (2, 0.35), (3, 0.15), (4, 0.05)),
        (
            "I10",
            "E11.9",
            "E78.5",
            "J06.9",
            "Z00.00",
            "M54.50",
            "F41.1",
            "E66.9",
            "Z23",
            "R05.9",
        ),
        0.80,
        {
            "non_covered_benefit_limit": 1.5,
            "authorization_referral": 0.2,
            "medical_necessity": 0.7,
        },
    ),
    Department(
        "CARDIOLOGY",
        "Cardiology",
        0.08,
        0.15,
        (("MAIN", 0.5), ("EAST", 0.5)),
        "11",
        "207RC0000X",
        (
            ("99214", 25),
            ("99204", 8),
            ("93000", 20),
            ("93306", 15),
            ("93015", 10),
            ("93880", 6),
            ("99213", 16),
        ),
        ((1, 0.35), (2, 0.45), (3, 0.20)),
        ("I10", "I25.10", "I48.91", "I50.9", "R07.9", "R00.2", "E78.5", "R06.02"),
        1.00,
        {"authorization_referral": 1.2, "medical_necessity": 1.3},
        True,
    ),
    Department(
        "ORTHOPEDICS",
        "Orthopedics",
        0.09,
        0.25,
        (("EAST", 0.5), ("WEST", 0.3), ("MAIN", 0.2)),
        "11",
        "207X00000X",
        (
            ("99213", 20),
            ("99204", 10),
            ("20610", 18),
            ("J3301", 12),
            ("73562", 14),
            ("29881", 6),
            ("64721", 4),
            ("L3908", 6),
            ("73721", 6),
        ),
        ((1, 0.30), (2, 0.40), (3, 0.25), (4, 0.05)),
        (
            "M17.11",
            "M17.12",
            "M25.561",
            "S83.241A",
            "M54.50",
            "M75.101",
            "G56.01",
            "S62.101A",
        ),
        1.05,
        {"authorization_referral": 2.0, "bundling_ncci": 1.6, "coding": 1.2},
        True,
    ),
    Department(
        "RADIOLOGY",
        "Radiology",
        0.14,
        0.60,
        (("MAIN", 0.5), ("WEST", 0.4), ("SOUTH", 0.1)),
        "22",
        "2085R0202X",
        (
            ("71046", 22),
            ("73562", 10),
            ("70450", 12),
            ("74177", 10),
            ("72148", 10),
            ("73721", 8),
            ("77067", 16),
            ("76700", 12),
        ),
        ((1, 0.75), (2, 0.20), (3, 0.05)),
        (
            "R10.9",
            "M54.50",
            "R51.9",
            "Z12.31",
            "J18.9",
            "R91.1",
            "S06.0X0A",
            "M25.561",
            "R10.84",
        ),
        1.15,
        {"authorization_referral": 2.5, "medical_necessity": 1.5},
        True,
    ),
    Department(
        "EMERGENCY",
        "Emergency",
        0.10,
        0.55,
        (("MAIN", 1.0),),
        "23",
        "207P00000X",
        (
            ("99283", 14),
            ("99284", 16),
            ("99285", 8),
            ("36415", 10),
            ("80053", 10),
            ("85025", 10),
            ("71046", 8),
            ("12002", 6),
            ("96374", 8),
            ("70450", 5),
        ),
        ((1, 0.25), (2, 0.25), (3, 0.25), (4, 0.15), (5, 0.10)),
        (
            "R07.9",
            "R10.9",
            "S01.81XA",
            "J18.9",
            "N39.0",
            "R55",
            "S52.501A",
            "J45.901",
            "R50.9",
        ),
        1.35,
        {
            "eligibility_registration": 1.6,
            "coding": 1.5,
            "authorization_referral": 0.1,
            "bundling_ncci": 1.3,
        },
    ),
    Department(
        "LABORATORY",
        "Laboratory",
        0.13,
        0.45,
        (("MAIN", 0.6), ("NORTH", 0.2), ("SOUTH", 0.2)),
        "81",
        "291U00000X",
        (
            ("36415", 20),
            ("80053", 16),
            ("85025", 16),
            ("80061", 12),
            ("83036", 12),
            ("84443", 10),
            ("81001", 8),
            ("87086", 6),
        ),
        ((1, 0.15), (2, 0.30), (3, 0.30), (4, 0.25)),
        ("E11.9", "E78.5", "Z00.00", "R73.03", "E03.9", "N39.0", "D64.9", "Z79.899"),
        0.75,
        {
            "medical_necessity": 1.8,
            "authorization_referral": 0.2,
            "eligibility_registration": 1.2,
        },
    ),
    Department(
        "PHYSICAL_THERAPY",
        "Physical Therapy",
        0.07,
        0.20,
        (("EAST", 0.5), ("SOUTH", 0.3), ("WEST", 0.2)),
        "11",
        "225100000X",
        (("97110", 35), ("97140", 22), ("97112", 14), ("97161", 8), ("97530", 21)),
        ((1, 0.15), (2, 0.40), (3, 0.35), (4, 0.10)),
        ("M54.50", "M25.561", "M17.11", "S83.241D", "M62.81", "Z96.651", "M75.101"),
        1.10,
        {
            "non_covered_benefit_limit": 1.5,
            "medical_necessity": 1.5,
            "authorization_referral": 1.5,
        },
    ),
    Department(
        "ONCOLOGY",
        "Oncology",
        0.05,
        0.60,
        (("MAIN", 1.0),),
        "11",
        "207RX0202X",
        (
            ("96413", 18),
            ("96415", 12),
            ("96375", 10),
            ("J9045", 16),
            ("J2405", 14),
            ("J1100", 10),
            ("99215", 10),
            ("85025", 10),
        ),
        ((2, 0.20), (3, 0.35), (4, 0.30), (5, 0.15)),
        ("C50.911", "C34.90", "C18.9", "C61", "Z51.11", "D63.0", "R11.2", "C90.00"),
        1.25,
        {"authorization_referral": 2.5, "documentation": 1.5, "medical_necessity": 1.3},
        True,
    ),
    Department(
        "BEHAVIORAL_HEALTH",
        "Behavioral Health",
        0.06,
        0.0,
        (("NORTH", 0.5), ("SOUTH", 0.5)),
        "11",
        "2084P0800X",
        (("90834", 40), ("90837", 30), ("90791", 15), ("90853", 10), ("99214", 5)),
        ((1, 0.90), (2, 0.10)),
        ("F32.9", "F41.1", "F33.1", "F43.10", "F90.0", "F31.9", "F41.9"),
        1.15,
        {
            "network_credentialing": 2.5,
            "non_covered_benefit_limit": 1.3,
            "authorization_referral": 0.8,
        },
    ),
    Department(
        "SURGERY",
        "Surgery",
        0.07,
        0.60,
        (("MAIN", 0.5), ("WEST", 0.5)),
        "24",
        "208600000X",
        (
            ("45378", 25),
            ("43239", 15),
            ("66984", 15),
            ("29881", 10),
            ("47562", 8),
            ("49505", 12),
            ("99213", 15),
        ),
        ((1, 0.55), (2, 0.35), (3, 0.10)),
        ("Z12.11", "K63.5", "K21.9", "H25.11", "K80.20", "K40.90", "M17.11", "D12.6"),
        1.15,
        {
            "authorization_referral": 2.5,
            "bundling_ncci": 2.0,
            "coding": 1.3,
            "documentation": 1.5,
        },
        True,
    ),
)
DEPT_INDEX = {d.code: i for i, d in enumerate(DEPARTMENTS)}

PROVIDER_LAST_NAMES = (
    "ASHBURY",
    "BELLWEATHER",
    "CALLOWAY",
    "DUNMORE",
    "ELLSWORTH",
    "FAIRBANKS",
    "GRANTHAM",
    "HOLLOWAY",
    "IVERSON",
    "JARROW",
    "KINGSLEY",
    "LOCKHART",
    "MERRIWEATHER",
    "NORTHCOTT",
    "OAKHURST",
    "PEMBERTON",
    "QUINCEY",
    "ROWAN",
    "STANHOPE",
    "THORNBURY",
    "UPTON",
    "VANCE",
    "WHITLOCK",
    "YARDLEY",
)
PROVIDER_FIRST_NAMES = (
    "AVERY",
    "BLAKE",
    "CASEY",
    "DANA",
    "EMERSON",
    "FINLEY",
    "HARPER",
    "JORDAN",
)

PATIENT_LAST_NAMES = tuple(
    "ZZ" + w + s
    for s in ("", "SON", "TON", "FIELD")
    for w in (
        "ALPHA",
        "BRAVO",
        "CHARLIE",
        "DELTA",
        "ECHO",
        "FOXTROT",
        "GOLF",
        "HOTEL",
        "INDIA",
        "JULIETT",
        "KILO",
        "LIMA",
        "MIKE",
        "NOVEMBER",
        "OSCAR",
        "PAPA",
        "QUEBEC",
        "ROMEO",
        "SIERRA",
        "TANGO",
        "UNIFORM",
        "VICTOR",
        "WHISKEY",
        "XRAY",
        "YANKEE",
        "ZULU",
    )
)
PATIENT_FIRST_NAMES = tuple(
    "TEST" + n
    for n in (
        "ANNA",
        "BEN",
        "CARA",
        "DEV",
        "ELLA",
        "FINN",
        "GINA",
        "HUGO",
        "IRIS",
        "JADE",
        "KAI",
        "LENA",
        "MILO",
        "NORA",
        "OTTO",
        "PIA",
        "QUINN",
        "RUBY",
        "SAM",
        "TESS",
        "UMA",
        "VIC",
        "WREN",
        "XAN",
        "YARA",
        "ZANE",
    )
)

SUBMITTER = (
    "ZZ SYNTHETIC HEALTH SYSTEM",
    "ZZSYNHEALTH",
    "BILLING OFFICE",
    "2175550100",
)
CLEARINGHOUSE = ("ZZ TEST CLEARINGHOUSE", "ZZCLEARHOUSE")


@dataclass(frozen=True)
class Provider:
    npi: str
    last: str
    first: str
    department: int
    taxonomy: str


@dataclass(frozen=True)
class Organisation:
    locations: tuple[Location, ...]
    billing: dict[str, BillingEntity]
    providers: tuple[Provider, ...]
    providers_by_dept: tuple[tuple[int, ...], ...]


@cache
def organisation() -> Organisation:
    """Locations with facility NPIs, the two billing entities and the rendering providers."""
    rng = np.random.default_rng(
        20260518
    )  # fixed: the organisation does not change with the seed
    loc_npis = make_npis(rng, len(LOCATIONS))
    locations = tuple(
        Location(loc.code, loc.name, loc.label, loc.is_facility, loc.address, npi)
        for loc, npi in zip(LOCATIONS, loc_npis, strict=True)
    )
    bill_npis = make_npis(rng, 2)
    billing = {
        "PRO": BillingEntity(
            "PRO",
            "ZZ SYNTHETIC PHYSICIAN GROUP",
            bill_npis[0],
            "990000101",
            "193200000X",
            ("100 SYNTHETIC WAY STE 200", "SPRINGFIELD", "IL", "627010100"),
            "099900101",
            "8000000101",
        ),
        "FAC": BillingEntity(
            "FAC",
            "ZZ SYNTHETIC MAIN CAMPUS HOSPITAL",
            bill_npis[1],
            "990000102",
            "282N00000X",
            ("100 SYNTHETIC WAY", "SPRINGFIELD", "IL", "627010100"),
            "099900102",
            "8000000102",
        ),
    }
    providers: list[Provider] = []
    by_dept: list[tuple[int, ...]] = []
    counts = (8, 4, 4, 5, 6, 2, 4, 3, 5, 4)
    for d, (dept, count) in enumerate(zip(DEPARTMENTS, counts, strict=True)):
        npis = make_npis(rng, count)
        idx = []
        for k in range(count):
            j = len(providers)
            last = PROVIDER_LAST_NAMES[j % len(PROVIDER_LAST_NAMES)]
            first = PROVIDER_FIRST_NAMES[(j * 5 + d) % len(PROVIDER_FIRST_NAMES)]
            providers.append(Provider(npis[k], last, first, d, dept.taxonomy))
            idx.append(j)
        by_dept.append(tuple(idx))
    return Organisation(locations, billing, tuple(providers), tuple(by_dept))


# --------------------------------------------------------------------------------------------
# Denial reasons (CARC plans) and what happens after a denial
# --------------------------------------------------------------------------------------------

CATEGORIES = (
    "eligibility_registration",
    "coordination_of_benefits",
    "authorization_referral",
    "missing_invalid_information",
    "coding",
    "documentation",
    "medical_necessity",
    "non_covered_benefit_limit",
    "bundling_ncci",
    "duplicate",
    "timely_filing",
    "network_credentialing",
)


@dataclass(frozen=True)
class DenialReason:
    key: str
    carc: str
    group: str  # usual group code
    category: str
    level: str  # "claim": every line denied; "line": one line denied (a partial denial when >1 line)
    weight: float  # weight within its category
    rarcs: tuple[str, ...] = ()
    alt_group: str = ""  # sometimes sent with this group instead
    alt_p: float = 0.0
    claim_type: str = ""  # "" both, or professional / institutional only


DENIAL_REASONS: tuple[DenialReason, ...] = (
    DenialReason("ELIG27", "27", "CO", "eligibility_registration", "claim", 0.35),
    DenialReason(
        "ELIG31", "31", "CO", "eligibility_registration", "claim", 0.25, (), "PI", 0.2
    ),
    DenialReason("ELIG109", "109", "CO", "eligibility_registration", "claim", 0.15),
    DenialReason("ELIG26", "26", "CO", "eligibility_registration", "claim", 0.10),
    DenialReason("ELIG140", "140", "CO", "eligibility_registration", "claim", 0.15),
    DenialReason(
        "COB22",
        "22",
        "CO",
        "coordination_of_benefits",
        "claim",
        1.0,
        ("MA04",),
        "OA",
        0.3,
    ),
    DenialReason("AUTH197", "197", "CO", "authorization_referral", "claim", 0.60),
    DenialReason("AUTH15", "15", "CO", "authorization_referral", "line", 0.15),
    DenialReason("AUTH198", "198", "CO", "authorization_referral", "line", 0.10),
    DenialReason("AUTH288", "288", "CO", "authorization_referral", "claim", 0.15),
    DenialReason(
        "MI16_M76", "16", "CO", "missing_invalid_information", "claim", 0.35, ("M76",)
    ),
    DenialReason(
        "MI16_MA130",
        "16",
        "CO",
        "missing_invalid_information",
        "claim",
        0.25,
        ("MA130",),
    ),
    DenialReason(
        "MI16_N382", "16", "CO", "missing_invalid_information", "claim", 0.15, ("N382",)
    ),
    DenialReason(
        "MI16_N290",
        "16",
        "CO",
        "missing_invalid_information",
        "claim",
        0.05,
        ("N290",),
        "",
        0.0,
        "professional",
    ),
    DenialReason(
        "MI16_M51", "16", "CO", "missing_invalid_information", "line", 0.20, ("M51",)
    ),
    DenialReason("COD4", "4", "CO", "coding", "line", 0.35, ("N519",)),
    DenialReason("COD11", "11", "CO", "coding", "line", 0.25),
    DenialReason(
        "COD5", "5", "CO", "coding", "line", 0.10, (), "", 0.0, "professional"
    ),
    DenialReason(
        "COD199", "199", "CO", "coding", "line", 0.10, (), "", 0.0, "institutional"
    ),
    DenialReason("COD6", "6", "CO", "coding", "line", 0.10),
    DenialReason("DOC252", "252", "CO", "documentation", "claim", 0.50, ("M127",)),
    DenialReason("DOC226", "226", "CO", "documentation", "claim", 0.30),
    DenialReason("DOC250", "250", "CO", "documentation", "line", 0.20),
    DenialReason(
        "MN50", "50", "CO", "medical_necessity", "line", 0.55, ("N115",), "PI", 0.1
    ),
    DenialReason("MN167", "167", "CO", "medical_necessity", "line", 0.25),
    DenialReason("MN151", "151", "CO", "medical_necessity", "line", 0.20),
    DenialReason(
        "NC96", "96", "CO", "non_covered_benefit_limit", "line", 0.50, ("N130",)
    ),
    DenialReason("NC204", "204", "CO", "non_covered_benefit_limit", "line", 0.30),
    DenialReason("NC119", "119", "CO", "non_covered_benefit_limit", "line", 0.20),
    DenialReason("BUN97", "97", "CO", "bundling_ncci", "line", 0.60, ("M15",)),
    DenialReason("BUN234", "234", "CO", "bundling_ncci", "line", 0.25),
    DenialReason("BUNB15", "B15", "CO", "bundling_ncci", "line", 0.15),
    DenialReason("DUP18", "18", "CO", "duplicate", "claim", 1.0, (), "OA", 0.4),
    DenialReason("TF29", "29", "CO", "timely_filing", "claim", 1.0),
    DenialReason("NET242", "242", "CO", "network_credentialing", "claim", 0.50),
    DenialReason("NETB7", "B7", "CO", "network_credentialing", "claim", 0.25),
    DenialReason("NET170", "170", "CO", "network_credentialing", "claim", 0.25),
)
REASON_INDEX = {r.key: i for i, r in enumerate(DENIAL_REASONS)}


@dataclass(frozen=True)
class Resolution:
    """What the provider does with an unresolved denial of this category, and how it ends."""

    resubmit: float  # corrected claim (frequency 7)
    appeal: float  # appeal (the rest: nothing further)
    overturn: float  # share of appeals the payer overturns (pays)
    resubmit_paid: float  # share of corrected claims paid
    write_off: float  # share of the remaining (unpaid) denials written off
    write_off_reason: str = "denial"


RESOLUTIONS: dict[str, Resolution] = {
    "eligibility_registration": Resolution(0.55, 0.00, 0.0, 0.75, 0.60),
    "coordination_of_benefits": Resolution(0.60, 0.00, 0.0, 0.80, 0.50),
    "authorization_referral": Resolution(0.10, 0.50, 0.60, 0.70, 0.70),
    "missing_invalid_information": Resolution(0.85, 0.00, 0.0, 0.90, 0.50),
    "coding": Resolution(0.70, 0.05, 0.40, 0.85, 0.60),
    "documentation": Resolution(0.10, 0.60, 0.65, 0.80, 0.70),
    "medical_necessity": Resolution(0.00, 0.50, 0.45, 0.0, 0.75),
    "non_covered_benefit_limit": Resolution(0.00, 0.10, 0.20, 0.0, 0.80),
    "bundling_ncci": Resolution(0.45, 0.15, 0.35, 0.80, 0.70),
    "duplicate": Resolution(0.00, 0.00, 0.0, 0.0, 0.85, "administrative"),
    "timely_filing": Resolution(0.00, 0.30, 0.40, 0.0, 0.90),
    "network_credentialing": Resolution(0.00, 0.30, 0.30, 0.0, 0.60),
}

REVERSAL_RATE = 0.012  # clean paid claims the payer later reverses and re-adjudicates
REVERSAL_DENIAL_SHARE = 0.20  # of those, re-adjudicated as a COB denial (CO-22)
INTEREST_RATE_BP = 1200  # prompt-pay interest, annual, after 30 days
INTEREST_MINIMUM = 50  # cents: smaller interest is not paid
OVERPAYMENT_RECOVERY_P = 0.05  # chance an 835 carries a PLB WO overpayment recovery
SELF_PAY_WRITE_OFF = (
    ("charity", 0.25, 45),
    ("bad_debt", 0.35, 120),
)  # (reason, share, days after bill)

# --------------------------------------------------------------------------------------------
# Planted remittance cases (docs/sample-data.md "Planted cases"): shapes of real 835s that the
# counting rules must get right, a few in every week. They are drawn from their own random
# stream, so the rest of the data and the planted patterns stay as they are.
# --------------------------------------------------------------------------------------------

# Per original claim billed to a payer and adjudicated, one draw: the share of claims given each
# case (exclusive, in this order). A claim that does not fit the case it drew (a denied claim drawn
# for a coverage denial, a one-line claim drawn for a split ...) is left as it is.
PLANTED_CASES: tuple[tuple[str, float], ...] = (
    # a clean claim refused for coverage and shifted to the patient (CAS group PR, denial CARC)
    ("pr_coverage_denial", 0.005),
    # a clean claim sent as CLP02=4 with only a contractual code (CO-24 capitation, CO-45)
    ("status4_contractual", 0.003),
    # a claim with line-level CAS adjudicated in 2-3 CLP loops with the same CLP01
    ("split_claim", 0.008),
    # a paid claim corrected (frequency 7); the payer reverses the original and pays the replacement
    ("reversal_after_replacement", 0.004),
)
# share of the other initially denied claims (CLP02=1, line-level CAS, 2+ lines) also split
SPLIT_DENIED_P = 0.05
# share of secondary-payer adjudications sent as CLP02=4 with OA-23 and a non-denial code
SECONDARY_STATUS4_P = 0.04
# share of 835 files the payer sends again RESEND_DAYS later (same traces, one amount corrected)
RESENT_FILE_P = 0.035
RESEND_DAYS = 7
# coverage denials shifted to the patient: eligibility (every line) or a non-covered line
PR_ELIGIBILITY_SHARE = 0.6
PR_REASONS: dict[str, DenialReason] = {
    "PR27": DenialReason("PR27", "27", "PR", "eligibility_registration", "claim", 0.5, ("N30",)),
    "PR31": DenialReason("PR31", "31", "PR", "eligibility_registration", "claim", 0.2),
    "PR32": DenialReason("PR32", "32", "PR", "eligibility_registration", "claim", 0.3, ("N30",)),
    "PR96": DenialReason("PR96", "96", "PR", "non_covered_benefit_limit", "line", 0.6, ("N130",)),
    "PR204": DenialReason("PR204", "204", "PR", "non_covered_benefit_limit", "line", 0.4, ("N130",)),
}
# CLP02=4 without a denial CARC: managed-care plans' capitation (CO-24), others CO-45
STATUS4_CONTRACTUAL: dict[str, DenialReason] = {
    "CAP24": DenialReason("CAP24", "24", "CO", "not_a_denial", "claim", 1.0),
    "CON45": DenialReason("CON45", "45", "CO", "not_a_denial", "claim", 1.0),
}
CAPITATED_PAYERS = ("PNC01", "MCD01")


@cache
def carc_table() -> dict[str, tuple[str, bool]]:
    """CARC -> (category, is_denial) from the project's reference table."""
    out: dict[str, tuple[str, bool]] = {}
    with CARC_TABLE.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out[row["carc"].strip()] = (
                row["category"].strip(),
                row["is_denial"].strip().lower() == "true",
            )
    return out


def is_denial(group: str, carc: str) -> bool:
    """docs/metrics.md: an adjustment whose CARC has is_denial=true in the CARC table, in any group
    (CO, PI, OA, CR and PR: PR-27/31/32/96/204 are coverage denials shifted to the patient); OA-23
    never is. A CARC missing from the table is a denial in group CO, PI, OA or CR, not in PR."""
    if group == "OA" and carc == "23":
        return False
    entry = carc_table().get(carc)
    if entry is None:
        return group != "PR"
    return entry[1]


def leaves_insurance_ar(group: str, carc: str, status: str) -> bool:
    """Whether a CAS amount takes its dollars out of insurance A/R (outstanding_ar): patient
    responsibility (group PR, cost sharing and coverage denials alike, except on an adjudication
    forwarded to a secondary payer, CLP02 19/20/21) and non-denial adjustments except OA-23.
    Denials in any other group stay in A/R until paid, corrected or written off."""
    if group == "PR":
        return status not in ("19", "20", "21")
    if group == "OA" and carc == "23":
        return False
    return not is_denial(group, carc)


@cache
def fee_schedule() -> np.ndarray:
    """Allowed amount per unit in cents, by payer and procedure: the payer's rate times a fixed
    per-code factor (fee schedules do not pay every code at the same share of charges)."""
    rng = np.random.default_rng(835)
    prices = np.array([p.price for p in PROCEDURES], dtype=np.int64)
    out = np.zeros((len(PAYERS), len(PROCEDURES)), dtype=np.int64)
    for i, payer in enumerate(PAYERS):
        factor_bp = rng.integers(8000, 12001, len(PROCEDURES))
        fee = prices * payer.rate_bp // 10000 * factor_bp // 10000
        out[i] = np.minimum(fee, prices)
    return out
