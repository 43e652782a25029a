"""Time lossanalysis.data.load on 60,000 images.

Uses the real Fashion-MNIST train set when the loader finds it (data_dir, then
$LOSSANALYSIS_DATA, the cache, /usr/share/datasets); otherwise writes a synthetic
60,000-image IDX file (gzip and uncompressed) to a temporary folder and times that.

    python scripts/bench_data.py [--repeat N]
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lossanalysis.data as data  # noqa: E402

N_IMAGES = 60_000


def best_of(repeat: int, fn) -> float:
    """Smallest wall-clock time of ``repeat`` calls to ``fn``, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def write_synthetic(folder: Path, gz: bool) -> None:
    """Write a random 60,000-image train split (digit-like sparsity) to ``folder``."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(N_IMAGES, 28, 28), dtype=np.uint8)
    images[rng.random(images.shape) < 0.6] = 0  # mostly-black frames compress like real data
    labels = (np.arange(N_IMAGES) % 10).astype(np.uint8)
    for base, array, magic in (
        ("train-images-idx3-ubyte", images, data.IMAGES_MAGIC),
        ("train-labels-idx1-ubyte", labels, data.LABELS_MAGIC),
    ):
        blob = magic.to_bytes(4, "big") + np.array(array.shape, ">u4").tobytes() + array.tobytes()
        if gz:
            (folder / (base + ".gz")).write_bytes(gzip.compress(blob, compresslevel=6))
        else:
            (folder / base).write_bytes(blob)


def report(label: str, data_dir, repeat: int) -> None:
    name = "fashion-mnist"
    x, _ = data.load(name, data_dir=data_dir)
    assert len(x) == N_IMAGES, f"expected {N_IMAGES} images, found {len(x)}"
    t_float = best_of(repeat, lambda: data.load(name, data_dir=data_dir))
    t_raw = best_of(repeat, lambda: data.load(name, data_dir=data_dir, raw=True))
    t_sum = best_of(repeat, lambda: data.intensity_summary(x))
    print(f"{label}: load float32 {t_float:.3f} s, load raw uint8 {t_raw:.3f} s, "
          f"intensity_summary {t_sum:.3f} s (best of {repeat}, {N_IMAGES} images)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement")
    args = parser.parse_args(argv)
    try:
        images_path, _ = data.find_files("fashion-mnist", "train")
    except data.DatasetError:
        images_path = None
    if images_path is not None:
        report(f"real Fashion-MNIST train ({images_path})", images_path.parent, args.repeat)
        return 0
    print("Fashion-MNIST not found; timing a synthetic 60,000-image IDX file instead")
    with tempfile.TemporaryDirectory() as tmp:
        for gz in (True, False):
            folder = Path(tmp) / ("gz" if gz else "plain") / "fashion-mnist"
            folder.mkdir(parents=True)
            write_synthetic(folder, gz)
            report(f"synthetic, {'gzip' if gz else 'uncompressed'}", folder, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
