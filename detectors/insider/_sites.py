"""Category lists of web sites as versioned data beside a detector (``job_sites.toml``): the
shipped file, extended by a force's own."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from detectors.exceptions import ConfigError
from detectors.lib.moved import suffixes


def load_sites(data_file: str, extra_file: str, owner: str) -> tuple[str, dict[str, str]]:
    """The lists' version (``shipped+extra``) and each domain's category: ``data_file``
    beside this package, then ``extra_file`` (same layout) added; ``owner`` names the
    detector in a :class:`ConfigError`."""
    text = resources.files("detectors.insider").joinpath(data_file).read_text("utf-8")
    docs = [tomllib.loads(text)]
    if extra_file:
        try:
            docs.append(tomllib.loads(Path(extra_file).read_text("utf-8")))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{owner}: extra_file {extra_file}: {exc}") from exc
    domains: dict[str, str] = {}
    for doc in docs:
        for name, cat in (doc.get("categories") or {}).items():
            for d in cat.get("domains") or ():
                domains[str(d).casefold()] = str(name)
    return "+".join(str(d.get("version", "?")) for d in docs), domains


def site_category(domain: str, domains: dict[str, str]) -> str | None:
    """The category of ``domain`` or of a parent domain in the lists."""
    for d in suffixes(domain):
        cat = domains.get(d)
        if cat is not None:
            return cat
    return None
