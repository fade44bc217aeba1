"""Imports every built-in detector module so each registers itself. Add new modules here."""

from detectors.access import (  # noqa: F401
    bulk_exfiltration,
    canary,
    complainant_lookup,
    covert_unauthorised,
    no_purpose,
    off_duty,
    self_family_colleague,
    vip_browsing,
    volume_anomaly,
    vulnerable_victim,
)
from detectors.association import (  # noqa: F401
    convergence,
    declared_linked,
    nominal_contact,
    ocg_path,
)
from detectors.audit import monitoring_disabled  # noqa: F401
from detectors.conduct import (  # noqa: F401
    complaint_pattern,
    discrimination_not_referred,
    discriminatory_message,
)
from detectors.field import bwv_deleted, no_bwv, repeat_stop  # noqa: F401
from detectors.risk import accumulation  # noqa: F401
from detectors.vetting import (  # noqa: F401
    barred_match,
    expiring,
    lapsed_access,
    review_overdue,
)
