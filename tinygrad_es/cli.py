"""The ``tinygrad-es`` command (also ``python -m tinygrad_es``)."""

from __future__ import annotations

import argparse
import sys

from tinygrad_es import course


def cmd_demo(args: argparse.Namespace) -> int:
    """Backprop against the course's finite differences on the course network."""
    print("The course's network on iris rows 0-98 (x = petal length, y = setosa 0 / versicolor 1):")
    print("  y_hat = s(w_52·s(w_2·x+b_2) + w_53·s(w_3·x+b_3) + w_54·s(w_4·x+b_4) + b_5)")
    print("  loss  = mean |y - y_hat|\n")
    cmp = course.compare_gradients(seed=args.seed)
    print(cmp.to_text())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinygrad-es",
        description="See and check backpropagation; train small networks with Keras's API.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="the main job: the course network, backprop vs finite "
                                       "differences")
    demo.add_argument("--seed", type=int, default=0, help="seed of the initial weights (0)")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
