"""Compile time a new user waits for: cold and warm numba caches.

Each measurement runs in a fresh Python process whose numba cache is an
empty temporary directory (``NUMBA_CACHE_DIR``; "cold", as on a fresh
install) or the one a previous process filled ("warm"):

- ``python -m skmix``: its printed "time taken" (the command line's own
  clock, from reading the data to the report) and the process's wall and
  CPU seconds (imports included);
- the first ``GaussianMixtureEM(3, random_state=0).fit`` of Old Faithful in
  a process: its wall and CPU seconds (imports excluded).

CPU seconds count what this process computed; on a machine shared with
other jobs the wall time can be several times larger. The issue's targets:
at most 5 s "time taken" cold, at most 2 s for a cold first fit, warm runs
no slower than before.

"precompiled" is a cache that ``python -m skmix._precompile`` filled first
(what building the package does, ``setup.py``), in a process of its own
whose time is printed too.

``--install`` measures the README's first command as a new user runs it:
a copy of the project (its git files) and a new virtual environment, where
``python -m pip install .`` (which now compiles the kernels into the
package) is timed, then ``python -m skmix`` in the project's directory and
the first fit in another directory (the installed package), with no
``NUMBA_CACHE_DIR``. It needs the package index.

``--kernels`` also prints each compiled function's compile time (wall
seconds, without the functions it compiled in turn) and the number of its
specialisations, grouped by kernel module, for both calls.

``--models`` prints only the cold compile of the covariance models' M-step
kernels (``compiled_m_step``, all ten models in turn) in a fresh process
with an empty cache: its CPU seconds after the orientation and Cholesky
factor kernels it calls (which the scikit-learn models and the NumPy path
compile anyway) have been compiled, and each function's share.

    python benchmarks/bench_compile.py [--repeats 1] [--kernels] [--models]
        [--install]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FIT = """
import time
t0, c0 = time.perf_counter(), time.process_time()
from skmix import GaussianMixtureEM
from skmix.datasets import load_faithful
X = load_faithful(return_X_y=True)
t1, c1 = time.perf_counter(), time.process_time()
GaussianMixtureEM(3, random_state=0).fit(X)
t2, c2 = time.perf_counter(), time.process_time()
print("import %.3f %.3f" % (t1 - t0, c1 - c0))
print("fit %.3f %.3f" % (t2 - t1, c2 - c1))
"""

#: The child scripts' tally of numba's compile events in ``recorder``: each
#: function's own seconds (without the functions it compiled in turn) and
#: its number of compilations.
SHARES = """
stack, seconds, count = [], collections.Counter(), collections.Counter()
for stamp, ev in recorder.buffer:
    if ev.is_start:
        stack.append([stamp, 0.0])
        continue
    start, inner = stack.pop()
    function = ev.data["dispatcher"].py_func
    name = function.__module__ + ":" + function.__qualname__
    seconds[name] += stamp - start - inner
    count[name] += 1
    if stack:
        stack[-1][1] += stamp - start
"""

KERNELS = (
    """
import collections, contextlib, io, json, sys
from numba.core import event
with event.install_recorder("numba:compile") as recorder:
    if sys.argv[1] == "cli":
        from skmix.__main__ import main
        with contextlib.redirect_stdout(io.StringIO()):
            main([])
    else:
        from skmix import GaussianMixtureEM
        from skmix.datasets import load_faithful
        GaussianMixtureEM(3, random_state=0).fit(load_faithful(return_X_y=True))
"""
    + SHARES
    + """print(json.dumps([seconds, count]))
"""
)

MODELS = (
    """
import collections, time
import numpy as np
from numba.core import event
from skmix._kernels.gaussian.linalg import precision_cholesky
from skmix._kernels.orientation import common_orientation
from skmix.families.covariance_models import COMPILED_MODELS, compiled_m_step
rng = np.random.default_rng(0)
A = rng.normal(size=(3, 2, 2))
S = A @ A.transpose(0, 2, 1) * 10 + np.eye(2)
n, z = np.array([10.0, 20.0, 30.0]), np.zeros((3, 2))
precision_cholesky(S, np.empty_like(S))
common_orientation(S, n, True, np.eye(2), np.empty_like(S), 1e-12, 10)
c0 = time.process_time()
with event.install_recorder("numba:compile") as recorder:
    for model in COMPILED_MODELS:
        compiled_m_step(model, n, z, S, z, 0.0, 1e-15, None, None)
print("cpu %.2f" % (time.process_time() - c0))
"""
    + SHARES
    + """for name, value in seconds.most_common():
    print("%7.2f %3d  %s" % (value, count[name], name))
"""
)


def run(args, cache_dir, python=sys.executable, cwd=None):
    """``(stdout, wall seconds, CPU seconds)`` of a child process (numba's
    cache in ``cache_dir``, or beside the sources if None)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if cache_dir is None:
        env.pop("NUMBA_CACHE_DIR", None)
        env.pop("PYTHONPATH")
    else:
        env["NUMBA_CACHE_DIR"] = str(cache_dir)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [python, *args], env=env, cwd=cwd, capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return done.stdout, wall, cpu


def command_line(cache_dir, **where):
    out, wall, cpu = run(["-m", "skmix"], cache_dir, **where)
    taken = float(re.search(r"time taken: ([0-9.]+) s", out).group(1))
    return dict(time_taken=taken, process_wall=wall, process_cpu=cpu)


def first_fit(cache_dir, **where):
    out, _, _ = run(["-c", FIT], cache_dir, **where)
    values = dict(line.split(" ", 1) for line in out.splitlines())
    imp_wall, imp_cpu = map(float, values["import"].split())
    fit_wall, fit_cpu = map(float, values["fit"].split())
    return dict(
        import_wall=imp_wall, import_cpu=imp_cpu, fit_wall=fit_wall, fit_cpu=fit_cpu
    )


def kernel_table(what):
    with tempfile.TemporaryDirectory() as cache_dir:
        out, wall, cpu = run(["-c", KERNELS, what], cache_dir)
    seconds, count = json.loads(out.splitlines()[-1])
    groups = {}
    for name, value in seconds.items():
        module = name.split(":")[0]
        total, functions, specialisations = groups.get(module, (0.0, 0, 0))
        groups[module] = (total + value, functions + 1, specialisations + count[name])
    print(
        f"\n{what}: process {wall:.1f} s wall, {cpu:.1f} s CPU; compile "
        f"{sum(seconds.values()):.1f} s wall in {sum(count.values())} "
        f"compilations of {len(seconds)} functions"
    )
    print(f"  {'seconds':>7} {'functions':>9} {'compiles':>8}  module")
    for module, (total, functions, specialisations) in sorted(
        groups.items(), key=lambda item: -item[1][0]
    ):
        print(f"  {total:7.2f} {functions:9d} {specialisations:8d}  {module}")
    print("  slowest functions:")
    for name, value in sorted(seconds.items(), key=lambda item: -item[1])[:12]:
        print(f"  {value:7.2f} {count[name]:9d}           {name}")


def model_kernels():
    with tempfile.TemporaryDirectory() as cache_dir:
        out, wall, _ = run(["-c", MODELS], cache_dir)
    lines = out.splitlines()
    print(f"covariance models' M-step, cold: {lines[0].split()[1]} s CPU")
    print("  seconds  compiles  function (wall, without its callees)")
    for line in lines[1:]:
        print("  " + line)


def precompile(cache_dir):
    _, wall, cpu = run(["-m", "skmix._precompile"], cache_dir)
    return dict(process_wall=wall, process_cpu=cpu)


def install_rows():
    """The README's first command in a new virtual environment (see the
    module docstring)."""
    with tempfile.TemporaryDirectory() as folder:
        project, venv = Path(folder) / "project", Path(folder) / "venv"
        files = (
            subprocess.run(
                ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
            )
            .stdout.decode()
            .split("\0")
        )
        for name in filter(None, files):
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, project / name)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = str(venv / "bin" / "python")
        _, wall, cpu = run(["-m", "pip", "install", "-q", "."], None, python, project)
        elsewhere = Path(folder)
        return [
            ("pip install .", dict(process_wall=wall, process_cpu=cpu)),
            ("python -m skmix", command_line(None, python=python, cwd=project)),
            ("python -m skmix, again", command_line(None, python=python, cwd=project)),
            ("first fit (installed)", first_fit(None, python=python, cwd=elsewhere)),
        ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--kernels", action="store_true")
    parser.add_argument("--models", action="store_true")
    parser.add_argument("--install", action="store_true")
    args = parser.parse_args()
    if args.models:
        for _ in range(args.repeats):
            model_kernels()
        return
    rows = []
    for _ in range(args.repeats if args.install else 0):
        rows.extend(install_rows())
    for _ in range(0 if args.install else args.repeats):
        with tempfile.TemporaryDirectory() as cache_dir:
            rows.append(("python -m skmix, cold", command_line(cache_dir)))
            rows.append(("python -m skmix, warm", command_line(cache_dir)))
        with tempfile.TemporaryDirectory() as cache_dir:
            rows.append(("first fit, cold", first_fit(cache_dir)))
            rows.append(("first fit, warm", first_fit(cache_dir)))
        with tempfile.TemporaryDirectory() as cache_dir:
            rows.append(("precompile", precompile(cache_dir)))
            rows.append(("python -m skmix, precompiled", command_line(cache_dir)))
        with tempfile.TemporaryDirectory() as cache_dir:
            precompile(cache_dir)
            rows.append(("first fit, precompiled", first_fit(cache_dir)))
    for name, values in rows:
        cells = ", ".join(f"{key} {value:.2f} s" for key, value in values.items())
        print(f"{name:29} {cells}")
    if args.kernels:
        kernel_table("fit")
        kernel_table("cli")


if __name__ == "__main__":
    main()
