"""Train an AE or a VAE on MNIST or Fashion-MNIST (a thin wrapper around lossanalysis.nn.train).

    python scripts/train.py --model vae --likelihood bernoulli --layers 784,400,20 \
        --dataset mnist --data-dir ../shared/data --epochs 10 --out runs/vae-bern

    python scripts/train.py --model ae --loss focal --loss-param gamma=1 \
        --layers 784,512,128,32 --epochs 5 --out runs/ae-focal [--resume] [--quiet]

Writes ``metrics.json`` and ``checkpoint.npz`` into ``--out`` after every epoch; ``--resume``
continues from the checkpoint there.  A progress line per epoch goes to stderr.  Bad settings
or data end the run with one ``error: ...`` line and exit status 2; a diverged run (NaN or
infinite loss) with exit status 1, naming the epoch and step.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _number_or_word(text):
    try:
        return float(text)
    except ValueError:
        return text


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="Train an AE or a VAE with a catalogue loss.")
    ap.add_argument("--model", choices=("ae", "vae"), required=True)
    ap.add_argument("--loss", default="bce", help="AE: catalogue loss name (default bce)")
    ap.add_argument("--loss-param", action="append", default=[], metavar="NAME=VALUE",
                    help="AE: loss parameter, e.g. gamma=1 (repeatable)")
    ap.add_argument("--likelihood", default="bernoulli",
                    help="VAE: bernoulli, gaussian, continuous_bernoulli or beta")
    ap.add_argument("--sigma", type=_number_or_word, default=1.0,
                    help="VAE gaussian: a number (fixed), 'shared' or 'per_pixel' (learned)")
    ap.add_argument("--kappa", type=float, default=None, help="VAE beta: concentration")
    ap.add_argument("--decoder", choices=("mlp", "linear"), default="mlp", help="VAE decoder")
    ap.add_argument("--activation", default="relu", help="relu, leaky_relu, tanh or identity")
    ap.add_argument("--layers", default="784,512,128,32", help="comma-separated layer sizes")
    ap.add_argument("--init", default=None, choices=("he", "glorot", "uniform_fan_in"),
                    help="one weight initialization for every layer (default: He before ReLU-like "
                         "units, Glorot elsewhere; uniform_fan_in is the frameworks' default)")
    ap.add_argument("--dataset", default="mnist", choices=("mnist", "fashion-mnist"))
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--epochs", type=int, required=True)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--optimizer", default="adam", choices=("adam", "sgd"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-train", type=int, default=None, help="use only the first N training images")
    ap.add_argument("--out", default=None, help="output folder (metrics.json, checkpoint.npz)")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--quiet", action="store_true")
    return ap.parse_args(argv)


class UsageError(ValueError):
    """A bad command-line value (reported as ``error: ...`` with exit status 2)."""


def layer_sizes(text: str, n_pixels: int | None = None) -> tuple:
    """``"784,400,20"`` -> ``(784, 400, 20)``, checked against the data's pixel count."""
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise UsageError(f"--layers must be comma-separated positive integers such as "
                         f"784,400,20, got {text!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise UsageError(f"--layers needs two or more sizes (input, ..., code), all positive, got {text!r}")
    if n_pixels is not None and sizes[0] != n_pixels:
        raise UsageError(f"--layers must start with {n_pixels}, the number of pixels of the "
                         f"images, got {sizes[0]}")
    return sizes


def loss_params(items) -> dict:
    """``["gamma=1"]`` -> ``{"gamma": 1.0}``."""
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            if not (sep and key):
                raise ValueError
            params[key] = float(value)
        except ValueError:
            raise UsageError(f"--loss-param expects NAME=NUMBER such as gamma=1, got {item!r}") from None
    return params


def build_model(args, n_pixels: int | None = None):
    from lossanalysis.nn import AE, VAE

    sizes = layer_sizes(args.layers, n_pixels)
    if args.model == "ae":
        return AE(sizes, loss=args.loss, loss_params=loss_params(args.loss_param),
                  activation=args.activation, init=args.init, seed=args.seed)
    return VAE(sizes, likelihood=args.likelihood, sigma=args.sigma, kappa=args.kappa,
               decoder=args.decoder, activation=args.activation, init=args.init, seed=args.seed)


def main(argv=None) -> int:
    args = parse_args(argv)
    from lossanalysis.data import DatasetError, load
    from lossanalysis.nn import TrainingDiverged, train

    try:
        if args.n_train is not None and args.n_train < 1:
            raise UsageError(f"--n-train must be a positive number of images, got {args.n_train}")
        # The model first: a bad loss or size is reported before any data is read.
        model = build_model(args)
        x_train, _ = load(args.dataset, "train", data_dir=args.data_dir)
        x_test, _ = load(args.dataset, "test", data_dir=args.data_dir)
        layer_sizes(args.layers, x_train.shape[1])
        if args.n_train is not None:
            x_train = x_train[:args.n_train]
        hist = train(model, x_train, x_test, epochs=args.epochs, batch_size=args.batch_size,
                     lr=args.lr, optimizer=args.optimizer, seed=args.seed, out_dir=args.out,
                     resume=args.resume, quiet=args.quiet)
    except TrainingDiverged as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        where = f"; --resume continues from the last checkpoint in {args.out}" if args.out else ""
        print(f"interrupted{where}", file=sys.stderr)
        return 130
    except (UsageError, DatasetError, ValueError, KeyError, OSError) as err:
        # Bad settings, data or files: one plain line, no traceback.
        text = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"error: {text}", file=sys.stderr)
        return 2
    if not args.quiet and hist["test_loss"]:
        print(f"final test loss {hist['test_loss'][-1]:.4f} nats per image", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
