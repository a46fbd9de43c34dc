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


_COUNTY_SUFFIX = re.compile(r"(自治县|自治旗|县|区|旗|市)$")


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


_CANDIDATE = re.compile(r"[\u4e00-\u9fff]{1,10}?(?:自治县|自治旗|县|区|旗)")


def find_counties(text: str) -> list[Place]:
    """County-level places named in text, in order of first mention (full names and short forms)."""
    full, alias = _tables()
    found: list[Place] = []
    seen: set[str] = set()
    for m in re.finditer(r"[\u4e00-\u9fff]{2,12}", text):
        run = m.group()
        i = 0
        while i < len(run):
            hit = None
            for j in range(min(len(run), i + 10), i + 1, -1):
                piece = run[i:j]
                if piece in full or piece in alias:
                    place = lookup(piece)
                    if place:
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
    return found
