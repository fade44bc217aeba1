"""Discovery and start-up validation of operator parameters (detectors.registry)."""

from __future__ import annotations

import pytest

from detectors.exceptions import ConfigError
from detectors.registry import build, detector_modules, registered


def test_parameters_are_validated_against_the_model() -> None:
    with pytest.raises(ConfigError, match=r"access\.canary.*scor: Extra inputs"):
        build({"access_canary": {"scor": 9}})
    with pytest.raises(ConfigError, match=r"access\.off_duty.*gap_min: Input should be"):
        build({"access.off_duty": {"gap_min": "ninety"}})
    with pytest.raises(ConfigError, match="'access_nope', which is no detector"):
        build({"access_nope": {"score": 1}})
    with pytest.raises(ConfigError, match=r"'access\.nope'"):
        build(disabled={"access.nope"})


def test_settings_text_is_read_as_the_fields_type() -> None:
    """Environment variables give text: numbers, booleans and lists are parsed."""
    dets = {
        d.id: d
        for d in build(
            {
                "access_off_duty": {"gap_min": "30", "remote_markers": "vpn, home"},
                "access_no_purpose": {"trust_unverified_purpose": "false"},
                "conduct_complaint_pattern": {"weights": '{"corruption": 4}'},
            }
        )
    }
    off = dets["access.off_duty"]
    assert off.params.gap_min == 30.0 and off.remote_markers == ("vpn", "home")
    assert dets["access.no_purpose"].params.trust_unverified_purpose is False
    assert dets["conduct.complaint_pattern"].weights == {"corruption": 4.0}


def test_params_are_frozen() -> None:
    det = registered()["access.canary"]()
    with pytest.raises(ValueError, match="frozen"):
        det.params.score = 1.0  # type: ignore[misc]


def test_discovery_finds_every_family_module() -> None:
    modules = detector_modules()
    assert "detectors.access.canary" in modules
    assert not any(m.rpartition(".")[2].startswith("_") for m in modules)
    assert not any(m.endswith(".params") for m in modules)
    assert {c.__module__ for c in registered().values()} >= set(modules)


def test_packs_are_found_by_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    """A distribution outside the repository declares ``probity.detectors`` entry points;
    the class (or module) each names is registered beside the built-in detectors."""
    from importlib.metadata import EntryPoint

    import detectors.registry as registry
    from detectors.base import EventDetector
    from models.alerts import Category

    class PackCanary(EventDetector):  # not a built-in's subclass: those may be compiled
        """A pack's detector."""

        id = "pack.canary"
        kinds = frozenset({"record.view"})
        category = Category.MISUSE_OF_SYSTEMS
        description = "a pack's detector"

        def judge(self, event, view):  # type: ignore[no-untyped-def]
            return []

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "_DISCOVERED", False)
    monkeypatch.setitem(globals(), "PackCanary", PackCanary)
    ep = EntryPoint("acme", f"{__name__}:PackCanary", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [ep] if group == ep.group else [])
    found = registry.registered()
    assert found["pack.canary"] is PackCanary
    assert "pack.canary" in {d.id for d in registry.build()}


def test_a_volume_sets_its_preset_under_explicit_parameters() -> None:
    """``fewer`` moves the declared fields; a parameter given explicitly wins over it."""
    cls = registered()["field.repeat_stop"]
    volume = {"field.repeat_stop": "fewer", "risk_accumulation": "MORE"}
    dets = {d.id: d for d in build({"field_repeat_stop": {"score": 70}}, volume=volume)}
    assert dets["field.repeat_stop"].params == cls.Params(**cls.Params.preset("fewer"), score=70)
    assert dets["field.repeat_stop"].params.min_stops == 4
    assert dets["risk.accumulation"].params.threshold == 20.0
    dets = {d.id: d for d in build({"field.repeat_stop": {"min_stops": 7}},
                                   volume={"field_repeat_stop": "more"})}  # fmt: skip
    assert dets["field.repeat_stop"].params.min_stops == 7
    assert dets["access.canary"].params == registered()["access.canary"].Params()


def test_an_unknown_volume_or_detector_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match=r"field\.repeat_stop: unknown volume 'less'"):
        build(volume={"field_repeat_stop": "less"})
    with pytest.raises(ConfigError, match=r"volume given for 'field\.nope', which is no detector"):
        build(volume={"field.nope": "fewer"})


def test_the_preset_and_spread_examples_run() -> None:
    """The docstring examples of the volume presets and the spread score (doctests)."""
    import doctest

    import detectors.base
    import detectors.lib.times

    for module in (detectors.base, detectors.lib.times):
        assert doctest.testmod(module).failed == 0
