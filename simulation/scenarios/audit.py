"""Scenarios of the ``audit.*`` detectors: the monitoring itself switched off."""

from __future__ import annotations

from simulation.scenarios._helpers import (
    working_day,
)
from simulation.scenarios.base import (
    AUDIT,
    Label,
    scenario,
)
from simulation.world import World


@scenario("audit.monitoring_disabled", order=3)
def monitoring_disabled(w: World) -> list[Label]:
    s = w.pick_officer(("staff_support", "intel", "control_room"))
    t = w.during_shift(s, working_day(w, s))
    setting = w.rng.choice(
        (
            "athena.audit.person_view",
            "pnc.audit.logging",
            "siem.forwarder",
            "niche.monitoring.enabled",
        )
    )
    value = w.rng.choice(("off", "disabled", "false", "0"))
    ev = w.emit(
        t,
        "audit",
        "audit.config_changed",
        actor=s.id,
        terminal=w.terminal(s),
        attrs={"setting": setting, "value": value},
    )
    return [Label("monitoring_disabled", AUDIT, [s.id], [ev])]
