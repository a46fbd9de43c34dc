"""Maps county-level place names to their city and province.

The administrative division table comes from the ``cpca`` package's resources/adcodes.csv. It is
read directly (not through ``import cpca``) because importing cpca loads pandas, which would add
half a second to every CLI call for a table we only need once.
"""
from __future__ import annotations

import csv
import importlib.util
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Place:
    county: str
    city: str
    province: str
    adcode: str


def _adcode_table() -> Path | None:
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "resources" / "adcodes.csv"
    return path if path.exists() else None


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, list[Place]], dict[str, list[Place]]]:
    """(full county name -> places, short alias -> places)."""
    path = _adcode_table()
    full: dict[str, list[Place]] = {}
    alias: dict[str, list[Place]] = {}
    if path is None:
        return full, alias
    names: dict[str, str] = {}
    rows = []
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code = row["adcode"][:6]
            names[code] = row["name"]
            rows.append((code, row["name"]))
    nations = _nations()
    for code, name in rows:
        if code[4:6] == "00" or code[2:4] == "00":
            continue
        province = names.get(code[:2] + "0000", "")
        city = names.get(code[:4] + "00", "")
        if city in ("市辖区", "县", ""):
            city = province  # municipalities: the province is the city
        place = Place(name, city, province, code)
        full.setdefault(name, []).append(place)
        short = _short_form(name, nations)
        if short and short != name:
            alias.setdefault(short, []).append(place)
    return full, alias


def _nations() -> list[str]:
    path = _adcode_table()
    if path is None:
        return []
    nations_csv = path.with_name("56_nations.csv")
    if not nations_csv.exists():
        return []
    with nations_csv.open(encoding="utf-8") as f:
        values = [line.strip().split(",")[0] for line in f if line.strip()]
    return sorted((v for v in values if v and not v.startswith("name")), key=len, reverse=True)


def _short_form(name: str, nations: list[str]) -> str:
    """互助土族自治县 -> 互助县, 盐池县 -> 盐池县 (no shorter form)."""
    if not name.endswith("自治县"):
        return name
    base = name[: -len("自治县")]
    changed = True
    while changed:
        changed = False
        for n in nations:
            for form in (n, n.removesuffix("族")):
                if form and base.endswith(form) and len(base) > len(form):
                    base = base[: -len(form)]
                    changed = True
                    break
            if changed:
                break
    return base + "县" if len(base) >= 2 else name


def lookup(name: str) -> Place | None:
    """The place for a full county name or its common short form, if unambiguous."""
    full, alias = _tables()
    places = full.get(name) or alias.get(name)
    if places and len({(p.city, p.province) for p in places}) == 1:
        return places[0]
    return None


# find_counties reads text in windows of at most WINDOW CJK characters (longer runs are cut every
# WINDOW characters, a last window of one character is skipped) and looks for names of 2 to
# _MAX_NAME characters inside each window, longest first.
WINDOW = 12
_MAX_NAME = 10
_CJK_NAME = re.compile(r"[\u4e00-\u9fff]{2,10}")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]*")


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, Place], re.Pattern[str] | None]:
    """(every name find_counties can match -> its place, the last characters of those names)."""
    full, alias = _tables()
    names: dict[str, Place] = {}
    for name in (*full, *alias):
        if _CJK_NAME.fullmatch(name):
            place = lookup(name)
            if place:
                names[name] = place
    names.update(_qualified_names(full))
    if not names:
        return names, None
    ends = "".join(sorted({name[-1] for name in names}))
    return names, re.compile("[" + re.escape(ends) + "]")


def _qualified_names(full: dict[str, list[Place]]) -> dict[str, Place]:
    """A county name that several cities have (朝阳区: 北京市, 长春市) is matched only with its city
    before it: 北京市朝阳区, 长春市朝阳区, 长春朝阳区."""
    out: dict[str, Place] = {}
    for name, places in full.items():
        if len(places) < 2 or name == "市辖区":  # 市辖区 is the table's placeholder, no place's name
            continue
        for p in places:
            for city in {p.city, p.city.removesuffix("市")}:
                if len(city) >= 2 and city != name and _CJK_NAME.fullmatch(city + name):
                    out[city + name] = p
    return out


def find_counties(text: str) -> list[Place]:
    """County-level places named in text, in order of first mention (full names and short forms)."""
    names, ends = _index()
    found: list[Place] = []
    seen: set[str] = set()
    if ends is None:
        return found
    # Every name ends in one of a few characters (县 区 市 旗 ...): only the windows where such a
    # character ends a name lying inside the window can hold a match, and only those are scanned,
    # in text order, exactly as a scan of every window would.
    run_start = run_end = done = 0
    for m in ends.finditer(text):
        end_char = m.start()
        if end_char < done:
            continue  # in the window just scanned
        if end_char >= run_end:  # the run of CJK characters around it
            run_start = end_char
            while run_start and "\u4e00" <= text[run_start - 1] <= "\u9fff":
                run_start -= 1
            run_end = _CJK_RUN.match(text, end_char).end()
        start = run_start + (end_char - run_start) // WINDOW * WINDOW
        stop = min(start + WINDOW, run_end)
        if stop - start < 2:
            continue
        if not any(
            text[i:end_char + 1] in names for i in range(max(start, end_char + 1 - _MAX_NAME), end_char)
        ):
            continue
        scan_window(text[start:stop], names, found, seen)
        done = stop
    return found


def scan_window(run: str, names: dict[str, Place], found: list[Place], seen: set[str]) -> None:
    """The places named in one window, longest name first at each position."""
    i = 0
    while i < len(run):
        hit = None
        for j in range(min(len(run), i + _MAX_NAME), i + 1, -1):
            place = names.get(run[i:j])
            if place is not None:
                hit = (j, place)
                break
        if hit:
            j, place = hit
            if place.adcode not in seen:
                seen.add(place.adcode)
                found.append(place)
            i = j
        else:
            i += 1
