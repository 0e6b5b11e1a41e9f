"""A past week's page is as of that week, and a figure whose window reaches before the start of the
data says so. The page of a week that is not the latest shows no claim denied after the week and no
days left to appeal counted from today; an early week's tiles flag a partial window and show no
change against a baseline that is not there yet (docs/metrics.md, "The weekly report")."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reports.dashboard import TILES, available_weeks, build_weekly_dashboard
from tests.helpers import load_and_build
from transforms import trends

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
AVERAGE_WEEKS = 13  # the tiles' "vs 13-week average"
PAST = "2026-W22"  # the sample's second week: its worklist was the example
WINDOW_COLUMNS = {"ar_window_days_used": "INTEGER", "ar_window_full": "BOOLEAN", "ncr_window_full": "BOOLEAN",
                  "history_start": "DATE"}
WINDOWED = {"days_in_ar": "ar_window_full", "net_collection_rate": "ncr_window_full"}
NUMBER = re.compile(r"[+-]\d+\.\d")


def ensure_window_columns(con) -> None:
    """marts.mart_weekly_kpis's window columns, made here from the calendar when the warehouse's
    SQL does not make them yet: history starts at the first bill or payment, the days-in-A/R window
    holds least(N, days since then) days and the net collection rate's 91."""
    have = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                      "WHERE table_schema = 'marts' AND table_name = 'mart_weekly_kpis'").fetchall()}
    if set(WINDOW_COLUMNS) <= have:
        return
    for name, kind in WINDOW_COLUMNS.items():
        con.execute(f"ALTER TABLE marts.mart_weekly_kpis ADD COLUMN IF NOT EXISTS {name} {kind}")
    con.execute(
        """UPDATE marts.mart_weekly_kpis AS k
           SET history_start = h.first_date,
               ar_window_days_used = least(d.window_days, k.snapshot_date - h.first_date + 1),
               ar_window_full = k.snapshot_date - h.first_date + 1 >= d.window_days,
               ncr_window_full = k.snapshot_date - h.first_date + 1 >= 91
           FROM marts.mart_days_in_ar AS d,
                (SELECT least((SELECT min(submission_date) FROM staging.stg_claim_submissions),
                              (SELECT min(payment_date) FROM staging.stg_remit_claims)) AS first_date) AS h
           WHERE d.week_start = k.week_start"""
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("asof")
    con = load_and_build(SAMPLE, tmp / "w.duckdb", None)
    trends.write_alerts(con, trends.detect(con))
    ensure_window_columns(con)
    weeks = available_weeks(con)
    wanted = [PAST, weeks[13], weeks[-1]]  # the second week, one with 13 weeks before it, the latest
    pages = {w: build_weekly_dashboard(con, tmp / "out", w).read_text() for w in wanted}
    yield con, weeks, pages
    con.close()


def kpi_row(con, week: str) -> dict:
    cur = con.execute("""SELECT k.*, d.window_days FROM marts.mart_weekly_kpis AS k
                         JOIN marts.mart_days_in_ar AS d USING (week_start) WHERE k.iso_week = ?""", [week])
    return dict(zip([c[0] for c in cur.description], cur.fetchone(), strict=True))


class Tiles(HTMLParser):
    """Each tile's texts by part (label, value, flag, delta); the delta's lines split at <br>."""

    def __init__(self, text: str):
        super().__init__()
        self.tiles: dict[str, dict[str, str]] = {}
        self._kpi: str | None = None
        self._part: str | None = None
        self._depth = 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-kpi" in a:
            self._kpi, self._depth = a["data-kpi"], 0
            self.tiles[self._kpi] = {}
        if self._kpi is None:
            return
        if tag == "div":
            self._depth += 1
            if self._depth == 2:
                self._part = (a.get("class") or "").split()[0]
                self.tiles[self._kpi].setdefault(self._part, "")
        if tag == "br" and self._part:
            self.tiles[self._kpi][self._part] += "\n"

    def handle_endtag(self, tag):
        if self._kpi is None or tag != "div":
            return
        self._depth -= 1
        if self._depth == 1:
            self._part = None
        if self._depth == 0:
            self._kpi = None

    def handle_data(self, data):
        if self._kpi and self._part:
            self.tiles[self._kpi][self._part] += data


def delta_line(tile: dict[str, str], label: str) -> str:
    return next(line for line in tile["delta"].split("\n") if label in line)


# --- (A) a past week's worklist ---------------------------------------------------------------------------------


def section(text: str, section_id: str) -> str:
    m = re.search(rf'<section id="{section_id}">(.*?)</section>', text, re.S)
    return m.group(1) if m else ""


def worklist_rows(text: str) -> list[dict[str, str]]:
    """The worklist table's rows of a page, by column label."""
    body = section(text, "worklist")
    heads = re.findall(r"<th[^>]*>([^<]*)</th>", body)
    return [dict(zip(heads, re.findall(r'<td[^>]*data-value="([^"]*)"', tr), strict=True))
            for tr in re.findall(r"<tr>(.*?)</tr>", re.search(r"<tbody>(.*?)</tbody>", body, re.S).group(1), re.S)] \
        if "<tbody>" in body else []


def past_weeks(weeks: list[str]) -> list[str]:
    """The past weeks rendered: the issue's example, and one with denied claims in its drill-down."""
    return [PAST, weeks[13]]


def test_past_week_page_shows_no_claim_denied_after_it(site):
    con, weeks, pages = site
    for week in past_weeks(weeks):
        _no_claim_denied_after(con, week, pages[week])


def _no_claim_denied_after(con, week: str, text: str) -> None:
    row = kpi_row(con, week)
    snapshot, monday = row["snapshot_date"], row["week_start"]
    # claims whose first denial came after the week: not on the page anywhere (worklist, drill-down)
    later = {r[0] for r in con.execute(
        """SELECT claim_id FROM marts.mart_denial_worklist WHERE denial_date > ?
           AND claim_family_id NOT IN (SELECT claim_family_id FROM marts.mart_denied_claims WHERE week_start <= ?)
           UNION
           SELECT claim_id FROM marts.mart_denied_claims GROUP BY claim_id HAVING min(week_start) > ?""",
        [snapshot, monday, monday]).fetchall()}
    assert len(later) > 20  # the worklist of today is full of them
    shown = [c for c in later if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", text)]
    assert shown == [], f"{len(shown)} claims denied after {week} on its page, e.g. {shown[:5]}"


def test_past_week_page_counts_no_days_left_from_today(site):
    con, weeks, pages = site
    for week in past_weeks(weeks):
        text = pages[week]
        snapshot = kpi_row(con, week)["snapshot_date"]
        rows = worklist_rows(text)
        for r in rows:  # a worklist as of the week: denied by then, days left counted from its snapshot date
            assert dt.date.fromisoformat(r["Denied on"]) <= snapshot, (week, r["Claim"])
            assert int(r["Days left"]) == (dt.date.fromisoformat(r["Appeal by"]) - snapshot).days, (week, r["Claim"])
        if not rows:  # or none, saying so in a line that links to the latest week's worklist
            body = section(text, "worklist")
            assert f'href="{weeks[-1]}.html#worklist"' in body, week
            assert "table-worklist" not in body, week


def test_latest_week_page_keeps_the_worklist(site):
    con, weeks, pages = site
    rows = worklist_rows(pages[weeks[-1]])
    wl = con.execute("SELECT claim_id, days_left, as_of_date FROM marts.mart_denial_worklist ORDER BY priority LIMIT 50").fetchall()
    assert [(r["Claim"], int(r["Days left"])) for r in rows] == [(c, d) for c, d, _ in wl]
    assert f"as of {wl[0][2]}" in section(pages[weeks[-1]], "worklist")


# --- (B) partial windows and baselines ----------------------------------------------------------------------------


def test_early_week_flags_partial_windows_and_shows_no_delta(site):
    con, _, pages = site
    row = kpi_row(con, PAST)
    tiles = Tiles(pages[PAST]).tiles
    assert row["ar_window_full"] is False and row["ncr_window_full"] is False
    dar, ncr = tiles["days_in_ar"], tiles["net_collection_rate"]
    assert f"partial window: {row['ar_window_days_used']} of {row['window_days']} days" in dar.get("flag", "")
    assert "partial window" in ncr.get("flag", "")
    for kpi in ("days_in_ar", "net_collection_rate"):  # the figure is still shown
        assert tiles[kpi]["value"].strip() not in ("", "–")
    for kpi, tile in tiles.items():
        # one week of history before this one: no 13-week average, and no change of a partial figure
        line = delta_line(tile, f"vs {AVERAGE_WEEKS}-week average")
        assert not NUMBER.search(line) and "no baseline yet" in line, (kpi, line)
        if kpi in WINDOWED:
            line = delta_line(tile, "vs last week")
            assert not NUMBER.search(line) and "no baseline yet" in line, (kpi, line)
    for kpi in set(tiles) - set(WINDOWED):
        assert "flag" not in tiles[kpi], kpi


def _has_baseline(now: dict, before: list[dict], key: str, n: int) -> bool:
    full = WINDOWED.get(key)
    weeks = [now, *before[:n]]
    return (len(before) >= n and all(r[key] is not None for r in weeks)
            and (full is None or all(r[full] for r in weeks)))


def test_deltas_only_against_complete_baselines(site):
    """Every tile of every page rendered: a change is shown exactly when its baseline weeks all exist
    with full windows, and the average is of the 13 weeks before the page's week."""
    con, weeks, pages = site
    averages_shown = 0
    for week, text in pages.items():
        cur = con.execute("SELECT * FROM marts.mart_weekly_kpis WHERE week_start <= (SELECT week_start FROM "
                          "marts.mart_weekly_kpis WHERE iso_week = ?) ORDER BY week_start DESC", [week])
        hist = [dict(zip([c[0] for c in cur.description], r, strict=True)) for r in cur.fetchall()]
        now, before = hist[0], hist[1:]
        tiles = Tiles(text).tiles
        for key, _, kind, _ in TILES:
            for label, n in (("vs last week", 1), (f"vs {AVERAGE_WEEKS}-week average", AVERAGE_WEEKS)):
                line = delta_line(tiles[key], label)
                if not _has_baseline(now, before, key, n):
                    assert not NUMBER.search(line), (week, key, line)
                    continue
                base = sum(float(r[key]) for r in before[:n]) / n
                d = float(now[key]) - base
                expected = f"{d * 100:+.1f} pts" if kind == "pct" else f"{d:+.1f}"
                assert expected in line, (week, key, line, expected)
                averages_shown += n > 1
            window = WINDOWED.get(key)
            assert ("partial window" in tiles[key].get("flag", "")) == (window is not None and now[window] is False), (week, key)
    assert averages_shown >= 4  # the latest week has its averages
