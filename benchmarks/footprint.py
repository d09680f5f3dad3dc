"""Import time of each framework, and peak memory of each contender on the big MLP.

Both are measured in a fresh subprocess per measurement, with the same thread pinning:

* **import time**: ``time.perf_counter()`` around ``import <module>`` in a new interpreter (its
  own imports first: numpy is counted in ``tinygrad_es`` and the numpy loop, as a user pays it);
  the median of 5 processes (the OS file cache is warm after the first: this is "cold interpreter,
  warm disk").
* **peak memory**: the peak **RSS** growth of a process that has imported the framework and made the
  data, over building the model and training 2 epochs (the first includes JAX's compilation and
  Keras's tracing, which a user pays too). The peak is read from ``VmHWM`` after resetting it with
  ``/proc/self/clear_refs`` (Linux), else from ``getrusage``'s ``ru_maxrss``. RSS is chosen over
  tracemalloc because it sees every allocator (PyTorch's, XLA's, TensorFlow's) alike;
  tracemalloc sees only numpy's and Python's, so its peak is printed as a second column for the
  numpy-based contenders only (a separate run: tracing slows the step).

Run: ``python -m benchmarks.footprint`` (or as the last part of ``bench_training``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODULES = {"tg-eager": "tinygrad_es", "tg-captured": "tinygrad_es", "torch": "torch",
           "jax": "jax", "keras": "keras", "numpy": "numpy"}
NUMPY_BASED = ("tg-eager", "tg-captured", "numpy")


def _rss_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def child_memory(who: str, use_tracemalloc: bool) -> dict:
    """In this (fresh) process: import, make the data, then measure building + 2 epochs."""
    import resource

    __import__(MODULES[who])
    if who == "keras":
        from benchmarks.contenders import import_keras

        import_keras()
    from benchmarks.bench_training import contender_classes
    from benchmarks.networks import NETWORKS

    net = NETWORKS["mlp"]
    x, y = net.data(False)
    if use_tracemalloc:
        import tracemalloc

        tracemalloc.start()
    base = _rss_kib("VmRSS")
    exact = _reset_peak()
    if not exact:
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        trainer = contender_classes()[who](net, x, y)
    except harness.Unavailable as err:
        return {"error": f"not available ({err})"}
    trainer.train(2)
    out = {}
    if use_tracemalloc:
        out["traced_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
    else:
        peak = _rss_kib("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out["rss_mib"] = (peak - base) / 1024
    return out


def _env() -> dict:
    """The children import this checkout (and inherit the thread settings and CPU affinity)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return dict(os.environ, PYTHONPATH=path)


def _child(args: list[str], threads: int) -> str:
    cmd = [sys.executable, "-m", "benchmarks.footprint", "--threads", str(threads)] + args
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=_env(), timeout=900)
    if done.returncode:
        tail = (done.stderr.strip().splitlines() or ["?"])[-1]
        raise RuntimeError(tail)
    return done.stdout.strip().splitlines()[-1]


def import_seconds(module: str, runs: int = 5) -> float:
    """Median over ``runs`` fresh interpreters of the time ``import module`` takes (nothing else is
    imported first; the thread settings come from the environment, as set by pin_threads)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    times = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              cwd=ROOT, env=_env(), timeout=300, check=True)
        times.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def report(contenders: list[str], threads: int) -> str:
    """The markdown table: import time and peak memory on the big MLP, ratios to the numpy loop."""
    from benchmarks.bench_training import CONTENDER_NAMES

    rows, mem, imports = [], {}, {}
    for who in contenders:
        try:
            if MODULES[who] not in imports:
                imports[MODULES[who]] = import_seconds(MODULES[who])
            mem[who] = json.loads(_child(["--memory", who], threads))
            if who in NUMPY_BASED:
                mem[who].update(json.loads(_child(["--memory", who, "--tracemalloc"], threads)))
        except (RuntimeError, subprocess.CalledProcessError) as err:
            mem[who] = {"error": str(err)}
    ref = mem.get("numpy", {}).get("rss_mib", float("nan"))
    for who in contenders:
        m = mem[who]
        if "error" in m:
            rows.append([CONTENDER_NAMES[who], "–", m["error"].split(" (")[0][:60], "–", "–"])
            continue
        traced = f"{m['traced_mib']:.1f}" if "traced_mib" in m else "–"
        rows.append([CONTENDER_NAMES[who], f"{imports[MODULES[who]]:.3f} ({MODULES[who]})",
                     f"{m['rss_mib']:.1f}", f"{m['rss_mib'] / ref:.2f}×", traced])
    return ("import time (median of 5 fresh interpreters) and peak memory on the "
            "784-1024-1024-10 MLP (build + 2 epochs)\n\n"
            + harness.markdown(["contender", "import s", "peak RSS growth MiB",
                                "× numpy loop", "tracemalloc peak MiB"], rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--memory", help="(child) peak memory of one contender")
    parser.add_argument("--tracemalloc", action="store_true", help="(child) with tracemalloc")
    parser.add_argument("--only", default="", help="contenders, comma-separated")
    args = parser.parse_args()
    harness.pin_threads(args.threads)
    if args.memory:
        print(json.dumps(child_memory(args.memory, args.tracemalloc)))
    else:
        print(report([w for w in MODULES if not args.only or w in args.only.split(",")],
                     args.threads))


if __name__ == "__main__":
    main()
