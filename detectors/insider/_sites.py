"""Category lists of web sites as versioned data beside a detector (``job_sites.toml``): the
shipped file, extended by a force's own."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from detectors.exceptions import ConfigError
from detectors.lib.moved import suffixes

#: the force's own mail domains, and its partners' (attachments go there in the course of duty)
FORCE_DOMAINS = ("police.example", "police.uk", "pnn.police.uk")
PARTNER_DOMAINS = ("cps.gov.uk", "gov.uk", "nhs.net", "gsi.gov.uk", "cjsm.net")
#: where uploads and mail stay inside: the force's, its tenant's file store, its partners'
INSIDE_DOMAINS = (*FORCE_DOMAINS, "sharepoint.com", *PARTNER_DOMAINS)


def load_lists(data_file: str, extra_file: str, owner: str) -> list[dict[str, Any]]:
    """The TOML ``data_file`` shipped beside this package, then a force's ``extra_file``
    (same layout) if given; ``owner`` names the detector in a :class:`ConfigError`."""
    text = resources.files("detectors.insider").joinpath(data_file).read_text("utf-8")
    docs = [tomllib.loads(text)]
    if extra_file:
        try:
            docs.append(tomllib.loads(Path(extra_file).read_text("utf-8")))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{owner}: extra_file {extra_file}: {exc}") from exc
    return docs


def lists_version(docs: list[dict[str, Any]]) -> str:
    """``shipped+extra``: each list's ``version``."""
    return "+".join(str(d.get("version", "?")) for d in docs)


def category_domains(docs: list[dict[str, Any]]) -> dict[str, str]:
    """Each domain of the lists' ``[categories.NAME] domains`` and its category."""
    domains: dict[str, str] = {}
    for doc in docs:
        for name, cat in (doc.get("categories") or {}).items():
            for d in cat.get("domains") or ():
                domains[str(d).casefold()] = str(name)
    return domains


def load_sites(data_file: str, extra_file: str, owner: str) -> tuple[str, dict[str, str]]:
    """The lists' version and each domain's category (:func:`load_lists`)."""
    docs = load_lists(data_file, extra_file, owner)
    return lists_version(docs), category_domains(docs)


def site_category(domain: str, domains: dict[str, str]) -> str | None:
    """The category of ``domain`` or of a parent domain in the lists."""
    for d in suffixes(domain):
        cat = domains.get(d)
        if cat is not None:
            return cat
    return None
