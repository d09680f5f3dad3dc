"""Regenerate the pictures the README shows, into examples/pictures/ (committed).

Runs every lesson in full (not quick) mode into a temporary folder, then copies the pictures the
README uses, shrunk to at most 1000 pixels wide (graphs 1400) and reduced to a 256-colour palette
so that the repository stays small. Lesson 3 runs real Keras when TensorFlow is installed.

Run from the repository root:  python examples/make_pictures.py          (a few minutes)
                               python examples/make_pictures.py --only 1 9
"""

from __future__ import annotations

import argparse
import importlib
import re
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# lesson module -> the pictures of it that the README shows
PICTURES = {
    "lesson1_momentum_x2": ["lesson1_momentum.png"],
    "lesson2_minibatch_line": ["lesson2_minibatch_line.png"],
    "lesson3_course_iris": ["lesson3_weights.png", "lesson3_loss_along_weights.png"],
    "lesson4_optimizer_paths": ["lesson4_course_paths.png", "lesson4_course_3d.png",
                                "lesson4_course_race.gif", "lesson4_rosenbrock_paths.png"],
    "lesson5_lr_grid_iris": ["lesson5_lr_grid_iris.png", "lesson5_lr_grid_iris_5B.png"],
    "lesson6_lr_grid_digits": ["lesson6_lr_grid_digits.png", "lesson6_lr_grid_digits_6B.png",
                               "lesson6_lr_grid_digits_6C.png"],
    "lesson7_momentum_cubic": ["lesson7_momentum_cubic.png"],
    "lesson8_binary_classifier": ["lesson8_history.png"],
    "lesson9_graph_and_trace": ["lesson9_neuron_graph.png", "lesson9_course_graph.png"],
    "lesson12_convnet_digits": ["lesson12_learning_curves.png", "lesson12_filters.png",
                                "lesson12_feature_maps.png", "lesson12_convnet_graph.png"],
}
MAX_WIDTH = {"lesson9_course_graph.png": 1400, "lesson12_convnet_graph.png": 1400,
             "lesson12_feature_maps.png": 1200}  # others: 1000 pixels


def shrink(source: Path, target: Path) -> None:
    """Copy a PNG at most 1000 pixels wide (or MAX_WIDTH[name]) with a 256-colour palette; copy
    GIFs as they are."""
    from PIL import Image

    if source.suffix != ".png":
        shutil.copyfile(source, target)
        return
    image = Image.open(source).convert("RGB")
    width = MAX_WIDTH.get(source.name, 1000)
    if image.width > width:
        height = round(image.height * width / image.width)
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)


def main(out_dir: str | Path = HERE / "pictures", only: list[int] | None = None) -> list[Path]:
    """Run the lessons (all, or the numbers in ``only``) and write their README pictures.

    Returns:
        The pictures written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for module_name, names in PICTURES.items():
            number = int(re.match(r"lesson(\d+)_", module_name)[1])
            if only and number not in only:
                continue
            print(f"----- {module_name} -----")
            importlib.import_module(module_name).main(Path(tmp) / module_name)
            for name in names:
                target = out_dir / name
                shrink(Path(tmp) / module_name / name, target)
                written.append(target)
    print()
    for path in written:
        print(f"{path}  {path.stat().st_size / 1024:.0f} kB")
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "pictures"), help="target folder")
    parser.add_argument("--only", type=int, nargs="+", metavar="N",
                        help="only these lessons (their numbers)")
    args = parser.parse_args()
    main(args.out, only=args.only)
