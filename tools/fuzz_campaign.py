"""A local fuzz campaign over the corpus of ``tests/_fuzz.py`` (not run in CI).

Runs every (estimator, case kind, variant) over ``--seeds`` random seeds,
each batch in a child process with a time limit (a case that does not end
in ``--timeout`` seconds is a ``hang``), classifies every call with
``tests/_fuzz_oracle.py`` and prints the table of outcomes per estimator and
per case kind, then one example of each defect (estimator, kind, call,
outcome, message)::

    PYTHONPATH=. python tools/fuzz_campaign.py --seeds 20 --variants 8
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests._fuzz import CASE_KINDS, ESTIMATORS, OUTCOMES, make_case  # noqa: E402
from tests._fuzz_oracle import run_case  # noqa: E402


def plan(seeds, variants, estimators, kinds):
    return [
        (estimator, kind, seed, variant)
        for estimator in estimators
        for kind in kinds
        for variant in range(variants)
        for seed in range(seeds)
    ]


def worker(tasks, results):
    import numpy as np

    for task in tasks:
        estimator, kind, seed, variant = task
        results.put(("start", task, None))
        try:
            case = make_case(estimator, kind, np.random.RandomState(seed), variant)
            outcomes = [] if case is None else run_case(case)
            rows = [(o.kind, o.call, o.outcome, o.detail) for o in outcomes]
        except Exception as error:  # noqa: BLE001 - a defect of the harness
            rows = [(kind, "harness", "harness_error", repr(error))]
        results.put(("done", task, rows))
    results.put(("exit", None, None))


def run(tasks, timeout):
    """Run tasks in a child process, restarting it after a hang."""
    ctx = mp.get_context("fork")
    done = []
    pending = list(tasks)
    while pending:
        results = ctx.Queue()
        child = ctx.Process(target=worker, args=(pending, results), daemon=True)
        child.start()
        current, finished = None, 0
        while True:
            try:
                message, task, rows = results.get(timeout=timeout)
            except Exception:  # noqa: BLE001 - queue.Empty: a hang
                child.kill()
                child.join()
                if current is None:
                    pending = []
                    break
                done.append((current, [(current[1], "any", "hang", "")]))
                pending = pending[finished + 1 :]
                break
            if message == "start":
                current = task
            elif message == "done":
                done.append((task, rows))
                finished += 1
                current = None
            else:
                child.join()
                pending = []
                break
    return done


def report(done):
    by_estimator = collections.defaultdict(collections.Counter)
    by_kind = collections.defaultdict(collections.Counter)
    examples = {}
    cases = collections.Counter()
    for (estimator, _kind, _, _), rows in done:
        cases[estimator] += 1
        for sub_kind, call, outcome, detail in rows:
            by_estimator[estimator][outcome] += 1
            by_kind[(estimator, sub_kind)][outcome] += 1
            if outcome not in ("ok", "clear_error"):
                key = (estimator, sub_kind, call, outcome, detail[:80])
                examples.setdefault(key, detail)
    columns = list(OUTCOMES) + ["hang", "harness_error"]
    print("| estimator | cases | calls | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 3) + "|")
    for estimator, counts in sorted(by_estimator.items()):
        total = sum(counts.values())
        cells = " | ".join(str(counts.get(c, 0)) for c in columns)
        print(f"| {estimator} | {cases[estimator]} | {total} | {cells} |")
    print()
    print("Defects (estimator, kind, call, outcome: message):")
    for key in sorted(examples):
        estimator, kind, call, outcome, _ = key
        print(f"- {estimator} / {kind} / {call}: {outcome}: {examples[key][:240]}")
    return by_estimator, by_kind, examples


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--variants", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--estimators", nargs="*", default=list(ESTIMATORS))
    parser.add_argument("--kinds", nargs="*", default=list(CASE_KINDS))
    parser.add_argument("--json", help="write the raw outcomes here")
    args = parser.parse_args(argv)
    tasks = plan(args.seeds, args.variants, args.estimators, args.kinds)
    start = time.perf_counter()
    done = run(tasks, args.timeout)
    print(f"{len(done)} cases in {time.perf_counter() - start:.0f} s\n")
    report(done)
    if args.json:
        Path(args.json).write_text(json.dumps(done, default=str))


if __name__ == "__main__":
    main()
