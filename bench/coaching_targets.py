"""The coaching loop's targets on the simulator's ground truth, over as many seeds as asked.

Run: ``python bench/coaching_targets.py [SEEDS]`` (default 20). Uses the same scoring as
``tests/coaching/test_targets.py`` and prints: per-5-s state F1 per scenario and pooled,
shift onset and confirmation latencies, backdraft latencies, false alarms in paced practice
and in 30 minutes of rest, and the resonance picks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' scoring

from tests.coaching.conftest import coached
from tests.coaching.test_targets import (
    SCENARIOS,
    backdraft_latencies,
    f1,
    resonance_picks,
    rest_states,
    shift_latencies,
    state_confusion,
)


def main(n_seeds: int) -> None:
    seeds = range(n_seeds)
    runs = {name: [coached(name, seed) for seed in seeds] for name in SCENARIOS}
    for name, scenario_runs in runs.items():
        c = state_confusion(scenario_runs)
        scores = [f"{s} F1 {f1(c, s):.3f}" for s in ("threat", "soothing")
                  if any(truth == s for truth, _ in c)]
        print(f"{name:20s} {', '.join(scores)}")
    pooled = state_confusion([r for rs in runs.values() for r in rs])
    print(f"{'pooled':20s} threat F1 {f1(pooled, 'threat'):.3f}, "
          f"soothing F1 {f1(pooled, 'soothing'):.3f}")
    onset, confirmed = shift_latencies([r for rs in runs.values() for r in rs])
    print(f"shift onset latency: median {np.median(onset):.1f} s, range "
          f"{min(onset):.1f}-{max(onset):.1f} s; confirmed: median {np.median(confirmed):.1f} s")
    latency = backdraft_latencies(runs["backdraft"])
    print(f"backdraft latency: {min(latency):.1f}-{max(latency):.1f} s, "
          f"{sum(x <= 30 for x in latency)} of {len(latency)} within 30 s")
    false = sum(e.kind == "backdraft" for _, events in runs["paced-6"] for e in events)
    print(f"backdrafts in paced-6 practice: {false}")
    rest = [rest_states(100 + seed) for seed in range(min(n_seeds, 10))]
    print(f"30 min of rest, {len(rest)} people: {sum(s for s, _ in rest)} shifts, "
          f"{sum(c['threat'] + c['soothing'] for _, c in rest)} threat or soothing epochs")
    picks = resonance_picks(seeds)
    hits = sum(p is not None and abs(p - t) <= 0.5 for t, p, _ in picks)
    print(f"resonance within 0.5/min: {hits} of {len(picks)}; misses: "
          f"{[(round(t, 2), p) for t, p, _ in picks if p is None or abs(p - t) > 0.5]}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
