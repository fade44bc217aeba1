"""The association graph's early exit (is any target near an edge?) agrees with its balls."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from detectors.graph.association import AssociationGraph

T = datetime(2026, 3, 1, tzinfo=UTC)
NODES = [f"person:P{i}" for i in range(8)] + ["staff:S1", "staff:S2", "ocg:A", "phone:1"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(NODES), st.sampled_from(NODES)), max_size=30),
    st.sets(st.sampled_from(NODES[:8])),
    st.sampled_from(NODES),
    st.sampled_from(NODES),
    st.integers(0, 3),
    st.integers(1, 4),
)
def test_target_near_iff_the_ball_holds_a_target(
    edges: list[tuple[str, str]],
    nominals: set[str],
    start: str,
    blocked: str,
    radius: int,
    hub_degree: int,
) -> None:
    g = AssociationGraph(hub_degree=hub_degree)
    for n in NODES:
        g.g.add_node(n)
    for n, (u, v) in enumerate(edges):
        if u != v:
            g.add_link(u, v, "linked_to", f"e{n}", T)
    for p in nominals:
        g.mark_nominal(p)
    if blocked == start:
        return
    ball = g._ball(start, blocked, radius)
    assert g._target_near(start, blocked, radius) == any(g.is_target(n) for n in ball)
