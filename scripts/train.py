"""Train an AE or a VAE on MNIST or Fashion-MNIST (a thin wrapper around lossanalysis.nn.train).

    python scripts/train.py --model vae --likelihood bernoulli --layers 784,400,20 \
        --dataset mnist --data-dir ../shared/data --epochs 10 --out runs/vae-bern

    python scripts/train.py --model ae --loss focal --loss-param gamma=1 \
        --layers 784,512,128,32 --epochs 5 --out runs/ae-focal [--resume] [--quiet]

Writes ``metrics.json`` and ``checkpoint.npz`` into ``--out`` after every epoch; ``--resume``
continues from the checkpoint there.  A progress line per epoch goes to stderr.
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


def build_model(args):
    from lossanalysis.nn import AE, VAE

    sizes = tuple(int(s) for s in args.layers.split(","))
    if args.model == "ae":
        params = {}
        for item in args.loss_param:
            key, _, value = item.partition("=")
            params[key] = float(value)
        return AE(sizes, loss=args.loss, loss_params=params, activation=args.activation, seed=args.seed)
    return VAE(sizes, likelihood=args.likelihood, sigma=args.sigma, kappa=args.kappa,
               decoder=args.decoder, activation=args.activation, seed=args.seed)


def main(argv=None) -> int:
    args = parse_args(argv)
    from lossanalysis.data import load
    from lossanalysis.nn import TrainingDiverged, train

    x_train, _ = load(args.dataset, "train", data_dir=args.data_dir)
    x_test, _ = load(args.dataset, "test", data_dir=args.data_dir)
    if args.n_train is not None:
        x_train = x_train[:args.n_train]
    model = build_model(args)
    try:
        hist = train(model, x_train, x_test, epochs=args.epochs, batch_size=args.batch_size,
                     lr=args.lr, optimizer=args.optimizer, seed=args.seed, out_dir=args.out,
                     resume=args.resume, quiet=args.quiet)
    except TrainingDiverged as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if not args.quiet and hist["test_loss"]:
        print(f"final test loss {hist['test_loss'][-1]:.4f} nats per image", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
