"""This checkout's pipeline against an earlier commit's, on the same force in the same run.

``python -m devtools.bench.versus --ref 7a38570 [--rounds 7] [--staff 340] [--days 21]``

The benchmark force (``probity bench``'s plain force) is written once; the ref is checked
out in a temporary detached ``git worktree``. Each round runs one child process per side,
in alternating order (now, ref, ref, now, ...), so a machine busy with something else shows
as spread rather than as a verdict. A child imports its side's source tree (its cwd and
``sys.path[0]``; it fails if any of the project's modules came from elsewhere, since the
editable install would otherwise hand the ref this checkout's modules), decodes the force up
front, tunes the collector as the worker does, and times ``Pipeline.run`` in CPU time (given
each event's bytes, as the worker gives them, where that side's ``run`` takes them). Both
sides must give as many alerts: a different count means the two do not do the same work.

The children run this interpreter; under the pure build both sides are pure Python.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from devtools.bench.force import write_force

#: the project's top-level packages: a child must import every one of them from its tree
PACKAGES = ("adapters", "detectors", "devtools", "engine", "intake", "models", "probity",
            "simulation", "streams", "triage")  # fmt: skip

# the child's program: only what both sides' trees have had since before the insider family
CHILD = """
import gc, json, sys, time
tree = sys.argv[1]
sys.path.insert(0, tree)
from detectors.graph.association import AssociationGraph
from detectors.registry import build
from engine.pipeline import Pipeline
from models.events import decode_event
from probity.runtime import tune_gc
from probity.settings import Settings
import inspect
with open(sys.argv[2], "rb") as fh:
    raws = [raw for raw in fh.read().splitlines() if raw.strip()]
events = [decode_event(raw) for raw in raws]
# the worker hands the pipeline each event with its bytes, to a pipeline that takes them
takes_raws = "raws" in inspect.signature(Pipeline.run).parameters
pipeline = Pipeline(build(), graph=AssociationGraph())
gc.collect()
tune_gc(Settings())
t0 = time.process_time()
alerts = pipeline.run(events, raws) if takes_raws else pipeline.run(events)
cpu = time.process_time() - t0
packages = set(sys.argv[3].split(","))
strays = sorted(
    name for name, mod in list(sys.modules.items())
    if name.split(".")[0] in packages and getattr(mod, "__file__", None)
    and not str(mod.__file__).startswith(tree)
)
import engine.pipeline
print(json.dumps({"events": len(events), "alerts": len(alerts), "cpu": cpu, "raws": takes_raws,
                  "pipeline": engine.pipeline.__file__, "strays": strays}))
"""


class VersusError(RuntimeError):
    """The two sides cannot be compared: a child failed, imported the wrong tree, or the
    sides disagree on the alerts."""


@dataclass
class VersusResult:
    """Events per second (CPU time) of each side, one per round, in round order."""

    ref: str
    events: int = 0
    alerts: dict[str, int] = field(default_factory=dict)  # side -> alerts on the force
    files: dict[str, str] = field(default_factory=dict)  # side -> engine.pipeline's file
    now_eps: list[float] = field(default_factory=list)
    ref_eps: list[float] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        """Each round's now / ref: the comparison, with the machine's noise per round."""
        return [n / r for n, r in zip(self.now_eps, self.ref_eps, strict=True)]

    def lines(self) -> list[str]:
        def side(name: str, eps: list[float]) -> str:
            return (f"{name:>4}: {statistics.median(eps):,.0f} events/s "
                    f"({min(eps):,.0f}-{max(eps):,.0f}), {self.alerts[name]} alerts, "
                    f"{self.files[name]}")  # fmt: skip

        rs = self.ratios
        return [
            f"versus {self.ref}: {self.events:,}-event force, {len(rs)} rounds in turns, "
            "CPU time of Pipeline.run (decoding excluded)",
            side("now", self.now_eps),
            side("ref", self.ref_eps),
            f"now/ref {statistics.median(rs):.2f} (per round {min(rs):.2f}-{max(rs):.2f}: "
            + " ".join(f"{r:.2f}" for r in rs)
            + ")",
        ]


def run_side(python: str, tree: Path, force: Path) -> dict[str, object]:
    """One child over the force with ``tree``'s modules; what it printed."""
    proc = subprocess.run(  # noqa: S603 - our own interpreter and program
        [python, "-c", CHILD, str(tree), str(force), ",".join(PACKAGES)],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise VersusError(f"child for {tree} failed:\n{proc.stderr[-3000:]}")
    out: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    if out["strays"]:
        raise VersusError(f"child for {tree} imported modules from elsewhere: {out['strays']}")
    return out


def bench_versus(
    ref: str, *, rounds: int = 7, staff: int = 340, days: int = 21, seed: int = 1,
    repo: Path | None = None, python: str | None = None,
) -> VersusResult:  # fmt: skip
    """Run this checkout (``repo``, by default the one this module is in) and ``ref`` over
    the same force, ``rounds`` times in alternating order."""
    repo = (repo or Path(__file__).resolve().parents[2]).resolve()
    python = python or sys.executable
    result = VersusResult(ref=ref)
    with tempfile.TemporaryDirectory(prefix="probity-versus-") as tmp:
        force = Path(tmp) / "force.jsonl"
        write_force(staff, days, seed, force)
        tree = Path(tmp) / "ref"
        git = ["git", "-C", str(repo)]
        subprocess.run([*git, "worktree", "add", "--detach", "--quiet", str(tree), ref],  # noqa: S603
                       check=True, capture_output=True)  # fmt: skip
        try:
            sides = {"now": repo, "ref": tree}
            for i in range(rounds):
                order = ("now", "ref") if i % 2 == 0 else ("ref", "now")
                for name in order:
                    out = run_side(python, sides[name], force)
                    result.events = int(out["events"])  # type: ignore[call-overload]
                    result.alerts[name] = int(out["alerts"])  # type: ignore[call-overload]
                    result.files[name] = str(out["pipeline"])
                    eps = result.events / float(out["cpu"])  # type: ignore[arg-type]
                    (result.now_eps if name == "now" else result.ref_eps).append(eps)
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(tree)],  # noqa: S603
                           check=False, capture_output=True)  # fmt: skip
    if result.alerts["now"] != result.alerts["ref"]:
        raise VersusError(f"the sides disagree on the force: {result.alerts}")
    return result


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ref", required=True, help="the commit to compare with (e.g. 7a38570)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--staff", type=int, default=340)
    ap.add_argument("--days", type=int, default=21)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    result = bench_versus(args.ref, rounds=args.rounds, staff=args.staff, days=args.days,
                          seed=args.seed)  # fmt: skip
    print("\n".join(result.lines()))


if __name__ == "__main__":
    main()
