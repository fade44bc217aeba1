"""Parameters of the ``access.*`` detectors: each detector's frozen model, its fields typed,
with defaults, units and a line of description.

Kept apart from the detectors' modules because the native build compiles those with mypyc,
which erases the annotations pydantic reads (python/mypy#11330); this module stays
interpreted (setup.py's exclusions)."""

from __future__ import annotations

from detectors.base import DetectorParams, param

TRUST = "accept a purpose that names no known task (most tasking feeds are incomplete)"


class CanaryParams(DetectorParams):
    """``access.canary``."""

    score: float = param(95.0, "score of every canary alert", unit="points", ge=0, le=100)


class CovertUnauthorisedParams(DetectorParams):
    """``access.covert_unauthorised``."""

    score: float = param(85.0, "score of an alert", unit="points", ge=0, le=100)
    window_h: float = param(
        24.0, "later touches of the same subject within this are counted, not raised", unit="h"
, quieter="up")


class OffDutyParams(DetectorParams):
    """``access.off_duty``."""

    tolerance_min: float = param(60.0, "either side of a shift that counts as on duty",
                                 unit="min")  # fmt: skip
    gap_min: float = param(
        90.0, "a pause longer than this ends an episode (or a carry-on from a shift)", unit="min"
    )
    overrun_h: float = param(2.0, "after a worked shift's end, still an overrun", unit="h")
    roster_horizon_days: float = param(
        7.0, "judged only with a rostered shift this near (a roster is known)", unit="days"
    )
    min_weight: float = param(4.0, "episode weight that raises an alert", unit="weight",
                              quieter="up")  # fmt: skip
    remote_weight: float = param(2.0, "multiplier of an access from a remote terminal",
                                 unit="x")  # fmt: skip
    export_weight: float = param(3.0, "weight of an export (a look-up weighs 1)", unit="weight")
    remote_markers: tuple[str, ...] = param(
        ("remote", "vpn", "home", "citrix"),
        "words in a terminal, address or login location that mean remote",
    )
    score: float = param(50.0, "base score (rises with weight and remoteness, at most 85)",
                         unit="points", ge=0, le=100)  # fmt: skip
    join_h: float = param(3.0, "a pause longer than this ends a slow episode (gaps of "
                          "gap_min and more joined)", unit="h", quieter="down")  # fmt: skip
    full_h: float = param(4.5, "a slow episode within this long needs only min_weight and "
                          "keeps the full score", unit="h", quieter="down")  # fmt: skip
    step_h: float = param(3.0, "a slow episode needs one more weight per this many hours "
                          "beyond full_h", unit="h", quieter="down", gt=0)  # fmt: skip
    fall_per_h: float = param(2.0, "a slow episode's score less per hour beyond full_h",
                              unit="points", ge=0)  # fmt: skip


class NoPurposeParams(DetectorParams):
    """``access.no_purpose``."""

    window_days: float = param(14.0, "window of unlinked look-ups judged together",
                               unit="days")  # fmt: skip
    min_days: int = param(2, "fewest distinct days, with one more view than the line",
                          unit="days")  # fmt: skip
    repeat_days: int = param(3, "distinct days of look-ups of one person that raise",
                             unit="days", fewer=4, more=2)  # fmt: skip
    repeat_weight: int = param(5, "weight of a person's look-ups that raises (views weigh 1)",
                               unit="weight", fewer=6, more=4)  # fmt: skip
    contact_weight: int = param(2, "weight of a view that opened contact details",
                                unit="weight")  # fmt: skip
    busy_views: int = param(100, "one more weight needed per this many unlinked look-ups",
                            unit="look-ups")  # fmt: skip
    revisit_step: int = param(1, "one less weight needed per this many people revisited",
                              unit="people")  # fmt: skip
    warmup_days: float = param(3.0, "history of unlinked look-ups needed before judging",
                               unit="days")  # fmt: skip
    ocg_views: int = param(2, "unlinked look-ups of an OCG nominal in the window that raise",
                           unit="look-ups", fewer=3)  # fmt: skip
    realert_days: float = param(14.0, "quiet period per subject after an alert", unit="days")
    trust_unverified_purpose: bool = param(True, TRUST)
    max_entries: int = param(50, "look-ups kept per subject in the officer's book",
                             unit="entries")  # fmt: skip


class SelfFamilyColleagueParams(DetectorParams):
    """``access.self_family_colleague``."""

    realert_days: float = param(30.0, "quiet period per subject after an alert", unit="days")
    trust_unverified_purpose: bool = param(True, TRUST)
    hub_max: int = param(
        10, "an address or phone shared by more people is a hub, not a household",
        unit="people",
    )
    exempt_roles: tuple[str, ...] = param(
        ("professional_standards", "psd", "acu", "anti_corruption", "counter_corruption",
         "vetting", "hr", "human_resources"),
        "role words whose staff look at colleagues as their job",
    )  # fmt: skip
    repeat_days: float = param(
        30.0, "window in which a colleague's household reached again (another day) alerts",
        unit="days", gt=0, quieter="down",
    )
    off_duty_min: float = param(
        60.0, "minutes outside any rostered shift that make a look-up off duty", unit="min",
        ge=0,
    )


class VipBrowsingParams(DetectorParams):
    """``access.vip_browsing``."""

    realert_days: float = param(7.0, "quiet period per VIP after an alert", unit="days")
    spread_days: float = param(30.0, "window for counting distinct VIPs reached", unit="days")
    mentions_min: int = param(2, "openings of records merely naming the VIP that count",
                              unit="openings", quieter="up")  # fmt: skip
    trust_unverified_purpose: bool = param(True, TRUST)


class ComplainantLookupParams(DetectorParams):
    """``access.complainant_lookup``."""

    score: float = param(80.0, "score of an alert", unit="points", ge=0, le=100)
    realert_days: float = param(30.0, "quiet period per complainant after an alert",
                                unit="days")  # fmt: skip


class VulnerableVictimParams(DetectorParams):
    """``access.vulnerable_victim``."""

    window_days: float = param(28.0, "window of views; an episode ends after it without views",
                               unit="days")  # fmt: skip
    views_min: int = param(3, "unlinked views that raise stage one", unit="views", quieter="up")
    views_score: float = param(65.0, "score of stage one (views)", unit="points", ge=0, le=100)
    full_days: float = param(14.0, "views within this long keep stage one's full score",
                             unit="days")  # fmt: skip
    fall_per_day: float = param(1.0, "stage one's score less per day its views take beyond "
                                "full_days", unit="points", ge=0)  # fmt: skip
    contact_score: float = param(92.0, "score of stage two (contact)", unit="points",
                                 ge=0, le=100)  # fmt: skip
    trust_unverified_purpose: bool = param(True, TRUST)


class VolumeAnomalyParams(DetectorParams):
    """``access.volume_anomaly``."""

    k: float = param(6.0, "robust standard deviations above the median", unit="sd", quieter="up")
    ratio: float = param(2.5, "times the officer's median shift", unit="x", quieter="up")
    min_excess: int = param(30, "look-ups above the officer's median", unit="look-ups",
                            quieter="up")  # fmt: skip
    warmup_shifts: int = param(5, "shifts of history before judging", unit="shifts")
    history_shifts: int = param(30, "shifts kept for the officer's baseline", unit="shifts")
    peer_min: int = param(20, "role shifts seen before the role's line applies", unit="shifts")
    peer_sample: int = param(400, "role shifts kept as the peer sample", unit="shifts")
    tolerance_min: float = param(60.0, "either side of a shift that belongs to it", unit="min")
    score: float = param(60.0, "base score of an alert", unit="points", ge=0, le=100)


class BulkExfiltrationParams(DetectorParams):
    """``access.bulk_exfiltration``."""

    window_h: float = param(3.0, "look-ups this long before an export form its burst",
                            unit="h")  # fmt: skip
    burst_min: int = param(30, "fewest look-ups in a burst", unit="look-ups", quieter="up")
    factor: float = param(3.0, "times the officer's median look-ups per active window",
                          unit="x", quieter="up")  # fmt: skip
    warmup_hours: int = param(10, "active hours of history before the median applies",
                              unit="h")  # fmt: skip
    history_days: float = param(28.0, "history of the officer's hourly look-ups", unit="days")
    channels: tuple[str, ...] = param(
        ("usb", "email", "download"), "channels by which data leaves the force"
    )
    bulk_count: int = param(30, "records in one export with no purpose that stand alone",
                            unit="records", quieter="up")  # fmt: skip
    score: float = param(80.0, "base score of an alert", unit="points", ge=0, le=100)


class QueueRevealsParams(DetectorParams):
    """``access.queue_reveals``."""

    window_h: float = param(24.0, "the window reveals are counted over", unit="h", gt=0)
    max_reveals: int = param(
        10, "reveals (granted, asked or refused) in the window that make a bulk", unit="reveals",
        ge=1,
    )  # fmt: skip
    max_refused: int = param(
        3, "refused reveals in the window that look like guessing ids", unit="reveals", ge=1
    )
    tolerance_min: float = param(
        60.0, "either side of a rostered shift that still counts as on duty", unit="min", ge=0
    )
    score: float = param(75.0, "score of a bulk or guessing alert", unit="points", ge=0, le=100)
    off_shift_score: float = param(
        60.0, "score of a reveal outside the analyst's rostered shifts", unit="points", ge=0,
        le=100,
    )  # fmt: skip
    history: int = param(200, "reveals remembered per analyst (bounds the state)", ge=10)
