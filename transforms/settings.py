"""Settings that change how figures are computed. Every one is documented in docs/metrics.md.

Defaults follow the standards named there; a YAML file (``denials.yaml``, or ``--config``)
overrides any of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import yaml

from transforms.errors import ConfigError

REFERENCE_DIR = Path(__file__).parent / "reference"


# ref.settings, the one-row table the SQL models read their settings from (name, SQL type)
SETTINGS_COLUMNS = (
    ("as_of_date", "DATE"),
    ("ar_window_days", "INTEGER"),
    ("ar_basis", "VARCHAR"),
    ("aging_basis", "VARCHAR"),
    ("unmapped_carc_is_denial", "BOOLEAN"),
    ("default_appeal_window_days", "INTEGER"),
)


@dataclass(frozen=True)
class Settings:
    as_of_date: dt.date | None = None  # None: the latest bill, payment or write-off date in the warehouse
    ar_window_days: int = 90  # days in A/R: trailing days of charges (AAFP 90; MGMA 365)
    ar_basis: str = "gross"  # gross (AAFP) | net (HFMA)
    aging_basis: str = "service"  # service (AAFP: from date of service) | bill (from first bill date)
    unmapped_carc_is_denial: bool = True  # a CO/PI/OA adjustment with a CARC not in the table
    default_appeal_window_days: int = 90
    appeal_window_days: dict[str, int] = field(default_factory=dict)  # payer_id -> days
    carc_categories_path: str | None = None  # override of transforms/reference/carc_categories.csv

    def __post_init__(self) -> None:
        if self.ar_basis not in ("gross", "net"):
            raise ConfigError(f"ar_basis must be 'gross' or 'net', not {self.ar_basis!r}")
        if self.aging_basis not in ("service", "bill"):
            raise ConfigError(f"aging_basis must be 'service' or 'bill', not {self.aging_basis!r}")
        if self.ar_window_days <= 0:
            raise ConfigError("ar_window_days must be a positive number of days")

    @property
    def carc_table(self) -> Path:
        return Path(self.carc_categories_path) if self.carc_categories_path else REFERENCE_DIR / "carc_categories.csv"

    def sql_variables(self) -> dict[str, object]:
        """The values SQL models read (table ref.settings: SETTINGS_COLUMNS)."""
        return {
            "as_of_date": self.as_of_date,
            "ar_window_days": self.ar_window_days,
            "ar_basis": self.ar_basis,
            "aging_basis": self.aging_basis,
            "unmapped_carc_is_denial": self.unmapped_carc_is_denial,
            "default_appeal_window_days": self.default_appeal_window_days,
        }

    def to_dict(self) -> dict:
        d = asdict(self)
        d["as_of_date"] = self.as_of_date.isoformat() if self.as_of_date else None
        return d


def load_settings(path: Path | str | None) -> Settings:
    if path is None:
        return Settings()
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read settings file {path}: {e}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of setting names to values")
    names = {f.name for f in fields(Settings)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise ConfigError(f"{path}: unknown settings {', '.join(unknown)} (known: {', '.join(sorted(names))})")
    if isinstance(raw.get("as_of_date"), str):
        raw["as_of_date"] = dt.date.fromisoformat(raw["as_of_date"])
    return Settings(**raw)
