"""Train an AE or a VAE on your images, MNIST or Fashion-MNIST (a thin wrapper around
lossanalysis.nn.train).

    python scripts/train.py --model vae --data digits.npy --out runs/digits

    python scripts/train.py --model vae --likelihood bernoulli \
        --dataset mnist --data-dir ../shared/data --epochs 10 --out runs/vae-bern \
        --save-recon runs/vae-bern/recon

    python scripts/train.py --model ae --loss focal --loss-param gamma=1 \
        --epochs 5 --out runs/ae-focal [--resume] [--quiet]

``--data PATH`` reads anything ``lossanalysis.data.load_images`` reads (a .npy/.npz array, an
.npz with x_train/x_test, IDX files, a folder of PNG/JPEG images); its own test set is kept,
otherwise --test-fraction of the images is drawn with --seed.  Default layers
(``lossanalysis.nn.default_layers``): for 784 values the VAE 784-400-20 (the PyTorch examples'
vae/main.py) and the AE 784-512-128-32, the input size following the data; for smaller images
the hidden sizes scale with the number of values D (8 x 8: VAE 64-40-8, AE 64-48-16-8).  The
architecture and the data's name are printed first.  Progress shows inside each epoch (rewritten in place on a
terminal), a line per epoch, and a summary at the end: test loss (with its reconstruction and
KL parts for a VAE) in the loss's own unit, the per-pixel squared error of the
reconstructions, wall time.  With ``--out``, ``metrics.json`` and ``checkpoint.npz`` are
written after every epoch; ``--resume`` continues from the checkpoint there (and repairs what an
interrupted run left); an --out folder that already holds a run is refused without --resume
(or --force, which starts over); ``lossanalysis.nn.load_model`` rebuilds the model from the
checkpoint.  Writing into the checkpoint's committed folders (figures/, reports/, ...) needs
--force.
``--save-recon STEM`` writes STEM.pdf and STEM.png: test images, reconstructions and (VAE)
samples from the prior.

Bad arguments end the run with one ``error: ...`` line naming the argument and exit status 2;
a diverged run (NaN, infinite or absurd loss) with exit status 1, naming the epoch, the step,
the term and the layer.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lossanalysis.nn.cli import (OneLineParser, add_data_arguments, load_data,  # noqa: E402
                                 positive_float, positive_int)



def _number_or_word(text):
    try:
        return float(text)
    except ValueError:
        return text


def parser():
    ap = OneLineParser(description="Train an AE or a VAE with a catalogue loss.")
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
    ap.add_argument("--layers", default=None,
                    help="comma-separated layer sizes, the first the images' number of values "
                         "(default: VAE D,400,20 and AE D,512,128,32 for D >= 784 values, "
                         "scaled down with D for smaller images)")
    ap.add_argument("--init", default=None, choices=("he", "glorot", "uniform_fan_in"),
                    help="one weight initialization for every layer (default: He before ReLU-like "
                         "units, Glorot elsewhere; uniform_fan_in is the frameworks' default)")
    add_data_arguments(ap)
    ap.add_argument("--epochs", type=positive_int, default=10,
                    help="total epochs (default 10)")
    ap.add_argument("--batch-size", type=positive_int, default=128)
    ap.add_argument("--lr", type=positive_float, default=1e-3)
    ap.add_argument("--optimizer", default="adam", choices=("adam", "sgd"))
    ap.add_argument("--out", default=None, help="output folder (metrics.json, checkpoint.npz)")
    ap.add_argument("--resume", action="store_true",
                    help="continue the run in --out from its checkpoint")
    ap.add_argument("--force", action="store_true",
                    help="start over in an --out folder that holds a run, and write into the "
                         "checkpoint's committed folders")
    ap.add_argument("--save-recon", default=None, metavar="STEM",
                    help="write STEM.pdf and STEM.png: test images and reconstructions (and "
                         "prior samples for a VAE)")
    ap.add_argument("--columns", type=int, choices=(1, 2), default=2,
                    help="width of the --save-recon figure in paper columns (default 2)")
    ap.add_argument("--quiet", action="store_true", help="nothing on stderr but errors")
    return ap


def layer_sizes(ap, text: str, n_pixels: int | None = None) -> tuple:
    """``"784,400,20"`` -> ``(784, 400, 20)``, checked against the data's pixel count."""
    try:
        sizes = tuple(int(s) for s in text.split(","))
    except ValueError:
        ap.error(f"--layers must be comma-separated positive integers such as 784,400,20, "
                 f"got {text!r}")
    if len(sizes) < 2 or min(sizes) < 1:
        ap.error(f"--layers needs two or more sizes (input, ..., code), all positive, "
                 f"got {text!r}")
    if n_pixels is not None and sizes[0] != n_pixels:
        ap.error(f"--layers must start with {n_pixels}, the number of pixels of the images, "
                 f"got {sizes[0]}")
    return sizes


def loss_params(ap, items) -> dict:
    """``["gamma=1"]`` -> ``{"gamma": 1.0}``."""
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            if not (sep and key):
                raise ValueError
            params[key] = float(value)
        except ValueError:
            ap.error(f"--loss-param expects NAME=NUMBER such as gamma=1, got {item!r}")
    return params


def build_model(ap, args, sizes):
    from lossanalysis.nn import AE, VAE

    try:
        if args.model == "ae":
            return AE(sizes, loss=args.loss, loss_params=loss_params(ap, args.loss_param),
                      activation=args.activation, init=args.init, seed=args.seed)
        return VAE(sizes, likelihood=args.likelihood, sigma=args.sigma, kappa=args.kappa,
                   decoder=args.decoder, activation=args.activation, init=args.init,
                   seed=args.seed)
    except (ValueError, KeyError) as err:
        ap.error(err.args[0] if isinstance(err, KeyError) and err.args else str(err))


def check_outputs(ap, args) -> None:
    """Before any work: --out and --save-recon writable; an existing run in --out kept unless
    --resume or --force; committed folders (figures/, reports/, ...) written only with --force."""
    from lossanalysis._io import check_writable, refuse_overwrite
    from lossanalysis.nn.training import CHECKPOINT, METRICS

    try:
        if args.out:
            check_writable(args.out, "--out")
            existing = [name for name in (CHECKPOINT, METRICS)
                        if (Path(args.out) / name).exists()]
            if existing and not (args.resume or args.force):
                ap.error(f"--out: {args.out!r} already holds a run ({existing[0]}); pass --resume "
                         "to continue it or --force to start over")
            refuse_overwrite([Path(args.out) / n for n in (CHECKPOINT, METRICS)],
                             force=args.force)
        if args.save_recon:
            stem = Path(args.save_recon)
            check_writable(stem.parent, "--save-recon")
            refuse_overwrite([stem.with_suffix(".pdf"), stem.with_suffix(".png")],
                             force=args.force)
    except (ValueError, FileExistsError) as err:
        ap.error(str(err))


def main(argv=None) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    if args.resume and not args.out:
        ap.error("--resume needs --out (the folder of the run to continue)")
    check_outputs(ap, args)
    # A bad loss or size is reported before any data is read: the model is built first with the
    # given sizes, or (default sizes: they follow the data) as a small stand-in.
    given = layer_sizes(ap, args.layers) if args.layers else None
    model = build_model(ap, args, given or (2, 2))
    x_train, x_test = load_data(ap, args)
    data = args.images
    if given:
        layer_sizes(ap, args.layers, x_train.shape[1])
    else:
        from lossanalysis.nn import default_layers
        model = build_model(ap, args, default_layers(args.model, x_train.shape[1]))
    from lossanalysis import _text
    from lossanalysis.nn import TrainingDiverged, format_summary, summarize, train

    if not args.quiet:
        print(f"{model.architecture()}; {_text.terminal(data.name)}: {len(x_train)} training, "
              f"{len(x_test)} test images", file=sys.stderr)
    described = {"name": data.name, "source": data.source, "split": data.split,
                 "shape": list(data.shape), "scale": data.scale}
    try:
        hist = train(model, x_train, x_test, epochs=args.epochs, batch_size=args.batch_size,
                     lr=args.lr, optimizer=args.optimizer, seed=args.seed, out_dir=args.out,
                     resume=args.resume, quiet=args.quiet, data=described)
    except TrainingDiverged as err:
        print(f"error: {_text.terminal(err)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        where = f"; --resume continues from the last checkpoint in {args.out}" if args.out else ""
        print(f"interrupted{where}", file=sys.stderr)
        return 130
    except (ValueError, OSError) as err:
        # a checkpoint that does not fit these settings, a file that cannot be written
        print(f"error: {_text.terminal(err)}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(format_summary(summarize(model, x_test, hist, seed=args.seed)), file=sys.stderr)
    if args.save_recon:
        from lossanalysis import plotting
        from lossanalysis.nn.figures import reconstruction_figure

        fig = reconstruction_figure(model, x_test, seed=args.seed, columns=args.columns,
                                    shape=data.shape)
        try:
            paths = plotting.save(fig, args.save_recon)
        except OSError as err:
            print(f"error: --save-recon: cannot write {args.save_recon!r} "
                  f"({err.strerror or err})", file=sys.stderr)
            return 2
        if not args.quiet:
            print("figure: " + ", ".join(str(p) for p in paths), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
