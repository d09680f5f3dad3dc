"""Training speed side by side: tinygrad_es, PyTorch, JAX, Keras and a hand-written numpy loop.

The contenders are tinygrad_es eager and captured (``compile(jit_compile=...)``), PyTorch eager,
JAX with a ``jax.jit`` step, Keras ``fit`` and the numpy loop, on the four networks of issue 13;
plus import time and peak memory.

One run, for each network (``benchmarks/networks.py``):

1. **agreement**: every contender trains ``check_epochs`` from the same weights on the same batches
   with the same update rule, and its loss (evaluated in float64 numpy on its weights) is compared
   with the numpy loop's; a line per contender is printed, and a contender beyond the network's
   tolerance (``Network.rtol``, or ``--rtol``) is flagged ``DISAGREES`` and marked ``(!)`` in
   the table (still timed, never silently);
2. **timing**: each contender's epochs per sample are calibrated to about ``--target`` seconds; then
   the contenders are run round-robin ``--repeats`` times (interleaved, so that load elsewhere hits
   all alike) and the median ms/epoch is reported with its ratio to the numpy loop (× < 1: faster
   than the numpy loop);
3. **footprint** (``benchmarks/footprint.py``): the cold import time of each framework and the peak
   memory of each contender on the big MLP, each in a fresh subprocess.

Threads: ``--threads N`` (default 1) pins numpy's BLAS, torch, TensorFlow and XLA to N threads and
the process to N CPUs before anything is imported (``benchmarks/harness.py`` lists the settings).

Run from the repository root:  ``python -m benchmarks.bench_training [--quick] [--only mlp,jax]``.
The contenders beyond numpy need the bench extra (``pip install -e ".[bench]"``); a missing
framework is reported as skipped. No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):                      # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness  # noqa: E402  (no numpy yet: threads are pinned first)

CONTENDER_NAMES = {"tg-eager": "tinygrad_es eager", "tg-captured": "tinygrad_es captured",
                   "torch": "PyTorch eager", "jax": "JAX (jax.jit step)", "keras": "Keras fit",
                   "numpy": "numpy loop"}
NETWORK_KEYS = ("course", "iris", "digits", "mlp")


def contender_classes() -> dict:
    from benchmarks import contenders as c
    from benchmarks import contenders_compiled as cc

    return {"tg-eager": c.TinygradES, "tg-captured": c.TinygradESCaptured, "torch": cc.Torch,
            "jax": cc.Jax, "keras": c.Keras, "numpy": c.NumpyLoop}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="less data, shorter samples, 3 repeats, no footprint")
    parser.add_argument("--only", default="",
                        help="comma-separated networks and/or contenders: "
                             f"{','.join(NETWORK_KEYS)} / {','.join(CONTENDER_NAMES)} "
                             "(the numpy loop always runs: it is the reference)")
    parser.add_argument("--threads", type=int, default=1, help="threads for every framework")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 7)")
    parser.add_argument("--target", type=float, default=None,
                        help="seconds per timing sample (default 0.4; 0.05 with --quick)")
    parser.add_argument("--rtol", type=float, default=None,
                        help="relative loss difference to the numpy loop that flags a contender "
                             "(default: each network's, see networks.py)")
    parser.add_argument("--no-footprint", action="store_true", help="skip import time and memory")
    parser.add_argument("--check-only", action="store_true", help="the agreement check, no timing")
    args = parser.parse_args(argv)
    tokens = [t for t in args.only.split(",") if t]
    unknown = [t for t in tokens if t not in NETWORK_KEYS and t not in CONTENDER_NAMES]
    if unknown:
        parser.error(f"--only: unknown {unknown}; choose from {list(NETWORK_KEYS)} and "
                     f"{list(CONTENDER_NAMES)}")
    args.networks = [k for k in NETWORK_KEYS if k in tokens] or list(NETWORK_KEYS)
    args.contenders = [k for k in CONTENDER_NAMES if k in tokens or k == "numpy"]
    if args.contenders == ["numpy"] and "numpy" not in tokens:
        args.contenders = list(CONTENDER_NAMES)
    args.repeats = args.repeats or (3 if args.quick else 7)
    args.target = args.target or (0.05 if args.quick else 0.4)
    return args


def set_up(contenders: list[str], net, x, y,
           rtol: float | None = None) -> dict[str, harness.Entry]:
    """Build every contender on ``net`` and run the agreement check (which also warms it up)."""
    import numpy as np

    classes = contender_classes()
    entries = {}
    ref = classes["numpy"](net, x, y)
    ref.train(net.check_epochs)
    ref_w = ref.weights()
    ref_loss = net.loss(ref_w, x, y)
    for who in contenders:
        entry = entries[who] = harness.Entry()
        try:
            entry.trainer = classes[who](net, x, y)
        except ImportError as err:
            entry.status = f"skipped ({err})"
        except harness.Unavailable as err:
            entry.status = f"not available ({err})"
        if entry.status:
            print(f"  {CONTENDER_NAMES[who]:<22} {entry.status}")
            continue
        entry.trainer.train(net.check_epochs)
        w = entry.trainer.weights()
        dw = max(float(np.max(np.abs(a - b))) for a, b in zip(w, ref_w))
        entry.agrees, entry.check = harness.agreement(CONTENDER_NAMES[who], net.loss(w, x, y),
                                                      ref_loss, dw, rtol or net.rtol)
        print(entry.check)
    return entries


def bench_network(net, args) -> dict[str, harness.Entry]:
    x, y = net.data(args.quick)
    print(f"\n{net.title}: {len(x)} samples, {net.check_epochs} epoch(s) for the check")
    entries = set_up(args.contenders, net, x, y, args.rtol)
    if args.check_only:
        return entries
    for entry in entries.values():
        if entry.trainer is not None:
            harness.calibrate(entry, args.target, max_epochs=2000)
    harness.interleaved(entries, args.repeats)
    return entries


def table(results: dict[str, dict[str, harness.Entry]], contenders: list[str]) -> str:
    from benchmarks.networks import NETWORKS

    rows = []
    for key, entries in results.items():
        ref = entries["numpy"].ms
        rows.append([NETWORKS[key].title] + [harness.cell(entries.get(who), ref)
                                             for who in contenders])
    return harness.markdown(["network"] + [CONTENDER_NAMES[w] for w in contenders], rows)


def machine_line(threads: int) -> str:
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    return f"threads {threads}, {os.cpu_count()} CPUs; uptime: {load}"


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    harness.pin_threads(args.threads)
    from benchmarks.networks import NETWORKS

    print(machine_line(args.threads))
    results = {key: bench_network(NETWORKS[key], args) for key in args.networks}
    if args.check_only:
        return results
    print("\nms per epoch, median of", args.repeats, "interleaved repeats "
          "(× = ratio to the numpy loop in the same run; (!) = disagrees with the numpy loop)\n")
    print(table(results, args.contenders))
    if not (args.quick or args.no_footprint):
        from benchmarks import footprint

        print("\n" + footprint.report(args.contenders, args.threads))
    print("\n" + machine_line(args.threads))
    return results


if __name__ == "__main__":
    main()
