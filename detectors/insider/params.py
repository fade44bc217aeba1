"""Parameters of the ``insider.*`` detectors (interpreted: see detectors/access/params.py)."""

from __future__ import annotations

from detectors.base import DetectorParams, param
from detectors.insider._sites import FORCE_DOMAINS, INSIDE_DOMAINS, PARTNER_DOMAINS

MB = 1_000_000


class AccountMisuseParams(DetectorParams):
    """``insider.account_misuse``."""

    logon_types: tuple[str, ...] = param(
        ("interactive", "remote_interactive", "unlock", "cached_interactive"),
        "logon types a person makes at a keyboard (a logon without a type counts too)",
    )
    shared_terminals: tuple[str, ...] = param(
        ("KIOSK", "SHARED", "HOTDESK", "PUBLIC", "BRIEFING", "POOL"),
        "words in a shared terminal's name (besides terminals the register marks shared)",
    )
    other_score: float = param(50.0, "score of a logon at a workstation assigned to another",
                               unit="points", ge=0, le=100)  # fmt: skip
    manager_score: float = param(75.0, "score when it is the officer's line manager's",
                                 unit="points", ge=0, le=100)  # fmt: skip
    report_factor: float = param(0.7, "score multiplier when it is one of the officer's own "
                                 "team (they manage its owner)", unit="x", ge=0,
                                 le=1)  # fmt: skip
    habit_days: int = param(3, "days the officer used the same workstation before that makes "
                            "it their habit (no alert)", unit="days", ge=1)  # fmt: skip
    peer_share: float = param(0.05, "share of the peer group's logons at others' workstations "
                              "above which such logons are routine there", unit="share", ge=0,
                              le=1)  # fmt: skip
    peer_factor: float = param(0.6, "score multiplier where it is routine for the peer group",
                               unit="x", ge=0, le=1)  # fmt: skip
    peer_min: int = param(200, "peer logons seen before the peer group's share applies",
                          unit="logons")  # fmt: skip
    concurrent_min: float = param(15.0, "two logons at terminals in different places within "
                                  "this long are one account in two hands", unit="min")  # fmt: skip
    concurrent_score: float = param(70.0, "score of an account in two places at once",
                                    unit="points", ge=0, le=100)  # fmt: skip
    roster_tolerance_min: float = param(90.0, "either side of a rostered shift that is duty",
                                        unit="min")  # fmt: skip
    off_elsewhere_score: float = param(55.0, "score of a logon while rostered off, at a "
                                       "terminal away from the owner's station",
                                       unit="points", ge=0, le=100)  # fmt: skip
    min_score: float = param(40.0, "scores below this give no alert", unit="points", ge=0,
                             le=100)  # fmt: skip
    max_terminals: int = param(30, "workstations remembered per officer", unit="terminals",
                               ge=1)  # fmt: skip


class CumulativeExfiltrationParams(DetectorParams):
    """``insider.cumulative_exfiltration``."""

    window_days: int = param(30, "days the total runs over", unit="days", ge=1)
    min_bytes: int = param(1_000 * MB, "smallest total that may alert", unit="bytes", ge=0)
    min_days: int = param(4, "fewest days with movement in the window (one large day is the "
                          "per-day detectors' to judge)", unit="days", ge=1)  # fmt: skip
    max_day_share: float = param(0.5, "the largest day's share of the total above which it is "
                                 "one burst (the per-day detectors' to judge), not a leak",
                                 unit="share", gt=0, le=1)  # fmt: skip
    k: float = param(4.0, "robust standard deviations above the peer group's usual total",
                     unit="sd")  # fmt: skip
    ratio: float = param(5.0, "times the peer group's usual total", unit="x")
    peer_min: int = param(5, "peer group members with a total before the group's usual "
                          "applies (a smaller group is not judged)", unit="staff")  # fmt: skip
    page_bytes: int = param(100_000, "bytes a printed page counts as", unit="bytes", ge=0)
    min_upload_bytes: int = param(100_000, "smallest upload that counts", unit="bytes", ge=0)
    inside_domains: tuple[str, ...] = param(
        INSIDE_DOMAINS,
        "the force's own and its partners' domains: uploads and mail there stay inside",
    )
    realert_days: float = param(7.0, "days before the same officer's total alerts again",
                                unit="days")  # fmt: skip
    score: float = param(60.0, "base score of an alert", unit="points", ge=0, le=100)


class DepartingStaffParams(DetectorParams):
    """``insider.departing_staff``."""

    lookback_days: int = param(90, "days before the notice (or the day the leaving date "
                               "became known) the window reaches back", unit="days",
                               ge=0)  # fmt: skip
    after_days: int = param(14, "days after the leaving date the window stays open",
                            unit="days", ge=0)  # fmt: skip
    open_days: int = param(120, "days the window runs from the notice when HR gives no leaving "
                           "date", unit="days", ge=1)  # fmt: skip
    usual_days: int = param(60, "days before the window kept for the officer's own usual",
                            unit="days", ge=0)  # fmt: skip
    floors: tuple[float, ...] = param(
        (10, 200 * MB, 10 * MB, 1, 100, 40, 30),
        "the least a leaver's day raises at, before the usual: removable files, removable "
        "bytes, bytes uploaded outside, e-mails with attachments outside, pages printed, "
        "files downloaded, records exported",
    )
    ratio: float = param(2.0, "times the officer's (and peer group's) usual day", unit="x")
    own_min_days: int = param(3, "days with a measure before the officer's usual of it applies",
                              unit="days")  # fmt: skip
    peer_min: int = param(15, "peer days seen before the peer group's usual applies",
                          unit="days")  # fmt: skip
    peer_sample: int = param(300, "peer days kept per group and measure", unit="days")
    min_upload_bytes: int = param(100_000, "smallest upload that counts", unit="bytes", ge=0)
    inside_domains: tuple[str, ...] = param(
        INSIDE_DOMAINS,
        "the force's own and its partners' domains: uploads and mail there stay inside",
    )
    extra_file: str = param("", "a force's own TOML of job-search and competitor sites, added "
                            "to the shipped list (empty: none)")  # fmt: skip
    job_points: float = param(5.0, "added to the score per day with job-search or competitor "
                              "browsing in the window", unit="points", ge=0)  # fmt: skip
    job_max: float = param(15.0, "most the browsing adds", unit="points", ge=0)
    score: float = param(60.0, "base score of an alert", unit="points", ge=0, le=100)
    min_score: float = param(40.0, "scores below this give no alert", unit="points", ge=0,
                             le=100)  # fmt: skip


class ExfiltrationChannelParams(DetectorParams):
    """``insider.exfiltration_channel``."""

    extra_file: str = param("", "a force's own TOML of categories and domains, added to the "
                            "shipped list (empty: none)")  # fmt: skip
    min_upload_bytes: int = param(100_000, "smallest upload that counts", unit="bytes", ge=0)
    internal_domains: tuple[str, ...] = param(FORCE_DOMAINS, "the force's own mail domains")
    partner_domains: tuple[str, ...] = param(
        PARTNER_DOMAINS,
        "external domains attachments go to in the course of duty",
    )
    external_bytes: int = param(25 * MB, "attachments to another external address that count",
                                unit="bytes")  # fmt: skip
    min_pages: int = param(300, "pages printed in a day that may alert", unit="pages")
    print_ratio: float = param(4.0, "times the officer's median printing day", unit="x")
    print_min_days: int = param(
        3, "printing days before the usual applies (before: print_ratio x min_pages)", unit="days"
    )
    print_history: int = param(30, "printing days kept for the officer's usual", unit="days")
    task_factor: float = param(0.5, "score multiplier when the action carries a purpose",
                               unit="x", ge=0, le=1)  # fmt: skip
    score: float = param(60.0, "base score of an alert", unit="points", ge=0, le=100)
    min_score: float = param(40.0, "scores below this give no alert", unit="points", ge=0,
                             le=100, quieter="up")  # fmt: skip


class HackingToolsParams(DetectorParams):
    """``insider.hacking_tools``."""

    extra_file: str = param("", "a force's own TOML of tools (names, hashes, command lines, "
                            "domains), added to the shipped list (empty: none)")  # fmt: skip
    admin_roles: tuple[str, ...] = param(
        ("it_admin", "ict", "it_support", "digital_forensics", "cyber"),
        "roles (words in the role) whose job uses such tools",
    )
    admin_factor: float = param(0.3, "score multiplier for admin roles", unit="x", ge=0, le=1)
    never_exempt: tuple[str, ...] = param(
        ("credential_dumper", "keylogger"), "tool categories no role makes routine"
    )
    task_factor: float = param(0.6, "score multiplier when the event carries a purpose",
                               unit="x", ge=0, le=1)  # fmt: skip
    score: float = param(65.0, "base score of an alert (times the category's weight)",
                         unit="points", ge=0, le=100)  # fmt: skip
    min_score: float = param(40.0, "scores below this give no alert", unit="points", ge=0,
                             le=100, quieter="up")  # fmt: skip


class MassMailingParams(DetectorParams):
    """``insider.mass_mailing``."""

    channels: tuple[str, ...] = param(("email",), "message channels judged")
    min_recipients: int = param(
        40, "fewest recipients that may alert", unit="recipients", quieter="up"
    )
    own_quantile: float = param(1.0, "the officer's usual: this quantile of their recent "
                                "messages", unit="quantile", gt=0, le=1)  # fmt: skip
    own_ratio: float = param(3.0, "times the officer's usual", unit="x", quieter="up")
    ratio: float = param(5.0, "times the organisation's usual", unit="x", quieter="up")
    warmup_messages: int = param(10, "the officer's messages before judging", unit="messages")
    history: int = param(100, "the officer's recent messages kept", unit="messages")
    org_percentile: float = param(0.99, "the organisation's usual: this percentile of "
                                  "messages", unit="quantile", gt=0, lt=1)  # fmt: skip
    org_min: int = param(500, "messages seen before the organisation's line applies",
                         unit="messages")  # fmt: skip
    org_sample: int = param(5000, "messages kept as the organisation's sample",
                            unit="messages")  # fmt: skip
    score: float = param(55.0, "base score of an alert", unit="points", ge=0, le=100)
    window_days: int = param(3, "days of messages judged together as one campaign",
                             unit="days", ge=1, le=30, quieter="down")  # fmt: skip
    part_min: int = param(10, "fewest recipients of a message that counts towards a campaign",
                          unit="recipients", ge=1)  # fmt: skip
    full_days: float = param(1.0, "a campaign within this long keeps the full score",
                             unit="days", ge=0)  # fmt: skip
    fall_per_day: float = param(3.0, "score less per day a campaign spreads beyond full_days",
                                unit="points", ge=0)  # fmt: skip
    history_days: int = param(30, "days with campaign messages kept for the officer's usual",
                              unit="days", ge=1)  # fmt: skip


class RemovableMediaParams(DetectorParams):
    """``insider.removable_media``."""

    warmup_days: float = param(14.0, "days an officer is seen before new devices count",
                               unit="days")  # fmt: skip
    gap_days: float = param(60.0, "days without removable media that make a use notable",
                            unit="days")  # fmt: skip
    storage_types: tuple[str, ...] = param(("usb_storage",), "device types that are storage")
    window_days: int = param(7, "days of copies judged together (a rolling total)", unit="days",
                             ge=1, le=30, quieter="down")  # fmt: skip
    full_days: float = param(1.0, "copies within this span keep the full score", unit="days",
                             ge=0)  # fmt: skip
    fall_per_day: float = param(3.0, "score less per day the copies spread beyond full_days",
                                unit="points", ge=0)  # fmt: skip
    history_days: int = param(30, "days with copies kept for the officer's usual", unit="days")
    own_min_days: int = param(3, "days with copies before the officer's own usual applies",
                              unit="days")  # fmt: skip
    k: float = param(4.0, "robust standard deviations above the usual", unit="sd", quieter="up")
    ratio: float = param(3.0, "times the usual", unit="x", quieter="up")
    min_files: int = param(25, "fewest files copied in the window that may alert", unit="files")
    min_bytes: int = param(500 * MB, "fewest bytes copied in the window that may alert",
                           unit="bytes")  # fmt: skip
    peer_min: int = param(15, "peer days seen before the peer group's line applies",
                          unit="days")  # fmt: skip
    peer_sample: int = param(300, "peer days kept per group", unit="days")
    task_factor: float = param(0.4, "score multiplier when the copy carries a task/purpose",
                               unit="x", ge=0, le=1)  # fmt: skip
    score: float = param(55.0, "base score of an alert", unit="points", ge=0, le=100)
    min_score: float = param(40.0, "scores below this give no alert", unit="points", ge=0,
                             le=100, quieter="up")  # fmt: skip
    max_devices: int = param(50, "devices remembered per officer", unit="devices", ge=1)


class SequenceParams(DetectorParams):
    """``insider.sequence``."""

    window_h: float = param(168.0, "the whole sequence within this long", unit="h",
                            quieter="down")  # fmt: skip
    full_h: float = param(72.0, "a sequence within this long keeps the full score and is "
                          "critical", unit="h")  # fmt: skip
    fall_per_day: float = param(3.0, "score less per day the sequence takes beyond full_h",
                                unit="points", ge=0)  # fmt: skip
    collect_min: int = param(50, "files downloaded or read within an hour that are a "
                             "collection", unit="files", quieter="up")  # fmt: skip
    export_min: int = param(
        30, "records in one export that are a collection", unit="records", quieter="up"
    )
    move_min_bytes: int = param(1_000_000, "smallest upload that is a move", unit="bytes")
    routine_deletes: tuple[str, ...] = param(
        (
            "/temp/",
            "/tmp/",  # noqa: S108  (path fragments matched, no file made)
            ".tmp",
            "/cache/",
            "/inetcache/",
            "$recycle.bin",
        ),
        "path fragments of deletions that are housekeeping, not a cover-up",
    )
    delete_min: int = param(20, "files deleted within an hour that are a cover-up",
                            unit="files", quieter="up")  # fmt: skip
    internal_domains: tuple[str, ...] = param(
        ("police.example", "police.uk", "pnn.police.uk", "sharepoint.com"),
        "destinations inside the force (uploads and mail there are no move)",
    )
    score: float = param(85.0, "score of an alert", unit="points", ge=0, le=100)


class UnusualLogonParams(DetectorParams):
    """``insider.unusual_logon``."""

    warmup_logons: int = param(20, "the officer's logons before judging", unit="logons")
    warmup_days: float = param(14.0, "days since the officer's first logon before judging",
                               unit="days")  # fmt: skip
    own_share: float = param(0.03, "the officer's share of logons near this hour below which "
                             "it is unusual for them", unit="share", ge=0, le=1)  # fmt: skip
    peer_share: float = param(0.02, "the peer group's share near this hour below which it is "
                              "unusual for them too", unit="share", ge=0, le=1)  # fmt: skip
    peer_min: int = param(200, "peer logons seen before the peer group's profile applies",
                          unit="logons")  # fmt: skip
    logon_types: tuple[str, ...] = param(
        ("interactive", "remote_interactive", "unlock", "cached_interactive"),
        "logon types a person makes at a keyboard (others, and logons without a type, "
        "count only when interactive_only is false)",
    )
    interactive_only: bool = param(False, "judge only logons whose type is in logon_types")
    roster_tolerance_min: float = param(90.0, "either side of a rostered shift that is duty",
                                        unit="min")  # fmt: skip
    rostered_factor: float = param(0.4, "score multiplier when the logon is in a rostered "
                                   "shift", unit="x", ge=0, le=1)  # fmt: skip
    shared_terminals: tuple[str, ...] = param(
        ("KIOSK", "SHARED", "HOTDESK", "PUBLIC"), "words in a shared terminal's name"
    )
    terminal_factor: float = param(1.3, "score multiplier on a shared terminal or one named "
                                   "for another member of staff", unit="x", ge=1)  # fmt: skip
    score: float = param(50.0, "base score of an alert", unit="points", ge=0, le=100)
    min_score: float = param(40.0, "scores below this give no alert", unit="points", ge=0,
                             le=100, quieter="up")  # fmt: skip
