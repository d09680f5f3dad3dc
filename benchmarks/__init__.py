"""Speed and footprint benchmarks: ``python -m benchmarks.bench_training`` and ``bench_conv``.

Modules: ``harness`` (thread pinning, interleaved timing, tables), ``networks`` (the four dense
networks and their numpy reference loss), ``contenders`` (tinygrad_es, Keras and the numpy loop),
``contenders_compiled`` (PyTorch eager and JAX), ``footprint`` (import time and peak memory).
"""
