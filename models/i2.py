"""The i2 Analyst's Notebook import files every link-analysis export writes: ``probity graph
export --format csv`` (from the association graph) and the ACU queue's officer-network
download (from the alerts an analyst may see) give the same two files, so one i2 import
specification reads both.

- entities: ``entity_id`` (identity), ``entity_type`` (Staff, Person, Address, Phone,
  Vehicle, OCG, Other: the icon), ``label``, ``nominal`` (yes/no), ``ocg_groups`` (``;``
  separated);
- links: ``link_id``, ``from_id`` and ``to_id`` (the relation reads from -> to), ``relation``
  (the link type), ``first_seen``, ``last_seen`` (RFC 3339), ``count``, ``evidence`` (event
  ids, ``;`` separated).

Cells that a spreadsheet would run as a formula are prefixed with ``'``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import IO

ENTITY_TYPES = {
    "staff": "Staff",
    "person": "Person",
    "address": "Address",
    "phone": "Phone",
    "vehicle": "Vehicle",
    "ocg": "OCG",
}
ENTITY_COLUMNS = ("entity_id", "entity_type", "label", "nominal", "ocg_groups")
LINK_COLUMNS = (
    "link_id",
    "from_id",
    "to_id",
    "relation",
    "first_seen",
    "last_seen",
    "count",
    "evidence",
)


def cell(value: str) -> str:
    """Neutralise spreadsheet formulas; keep phone numbers such as ``+447700900999`` as is.

    >>> cell("=1+1"), cell("+44 7700 900123"), cell("-2+3")
    ("'=1+1", '+44 7700 900123', "'-2+3")
    """
    if value[:1] in ("=", "@", "\t", "\r") or (
        value[:1] in ("+", "-") and not value[1:].replace(" ", "").isdigit()
    ):
        return "'" + value
    return value


def write_rows(
    fh: IO[str], columns: tuple[str, ...], rows: Iterable[Mapping[str, str]]
) -> None:
    """One i2 CSV file (a header, then ``rows`` with every cell neutralised)."""
    writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: cell(row[k]) for k in columns})
