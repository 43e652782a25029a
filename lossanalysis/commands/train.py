"""``lossanalysis train``: an AE or a VAE on your images, MNIST or Fashion-MNIST (a command line
around :func:`lossanalysis.nn.train`)::

    lossanalysis train --model vae --data digits.npy --out runs/digits --save-recon
    lossanalysis train --model vae --likelihood bernoulli --dataset mnist --epochs 10 \\
        --out runs/vae-bern --save-recon
    lossanalysis train --model ae --loss focal --loss-param gamma=1 --epochs 5 \\
        --out runs/ae-focal [--resume] [--quiet]

``--data PATH`` reads anything ``lossanalysis.data.load_images`` reads (a .npy/.npz array, an
.npz with x_train/x_test, IDX files, a folder of PNG/JPEG images); its own test set is kept,
otherwise --test-fraction of the images is drawn with --seed.  Default layers
(``lossanalysis.nn.default_layers``): for 784 values the VAE 784-400-20 (the PyTorch examples'
vae/main.py) and the AE 784-512-128-32, the input size following the data; for smaller images
the hidden sizes scale with the number of values D (8 x 8: VAE 64-40-8, AE 64-48-16-8).

The architecture and the data's name are printed first.  Progress shows inside each epoch
(rewritten in place on a terminal), a line per epoch, and a summary at the end: test loss (with
its reconstruction and KL parts for a VAE) in the loss's own unit, the per-pixel squared error
of the reconstructions, wall time.  With ``--out`` (a folder), ``metrics.json`` and
``checkpoint.npz`` are written after every epoch, and ``--save-recon`` adds
``reconstructions.pdf`` and ``.png`` (test images, their reconstructions and, for a VAE, samples
from the prior).  ``--resume`` continues from the checkpoint there (and repairs what an
interrupted run left); an --out folder that already holds a run is refused without --resume
(or --force, which starts over); ``lossanalysis.nn.load_model`` rebuilds the model from the
checkpoint.  Writing into a checkout's committed folders (figures/, studies/) needs --force.

Bad arguments end the run with one ``error: ...`` line naming the argument and exit status 2;
a diverged run (NaN, infinite or absurd loss) with exit status 1, naming the epoch, the step,
the term and the layer.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..nn.cli import add_data_arguments, load_data, positive_float, positive_int
from . import SUMMARIES
from ._common import add_columns, standalone, subcommand, plain

__all__ = ["register", "main", "run", "RECON"]

DESCRIPTION = plain(__doc__)

#: The file name stem of the ``--save-recon`` figure inside ``--out``.
RECON = "reconstructions"


def _number_or_word(text):
    try:
        return float(text)
    except ValueError:
        return text


def arguments(ap) -> None:
    """The options of ``train``."""
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
    ap.add_argument("--epochs", type=positive_int, default=10, help="total epochs (default 10)")
    ap.add_argument("--batch-size", type=positive_int, default=128)
    ap.add_argument("--lr", type=positive_float, default=1e-3)
    ap.add_argument("--optimizer", default="adam", choices=("adam", "sgd"))
    ap.add_argument("--out", default=None, metavar="DIR",
                    help="output folder: metrics.json and checkpoint.npz after every epoch "
                         "(default: nothing is written)")
    ap.add_argument("--resume", action="store_true",
                    help="continue the run in --out from its checkpoint")
    ap.add_argument("--force", action="store_true",
                    help="start over in an --out folder that holds a run, and write into a "
                         "checkout's committed folders")
    ap.add_argument("--save-recon", action="store_true",
                    help=f"also write --out/{RECON}.pdf and .png: test images and their "
                         "reconstructions (and prior samples for a VAE)")
    add_columns(ap, "the --save-recon figure")
    ap.add_argument("--quiet", action="store_true", help="nothing on stderr but errors")


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


def _build_model(ap, args, sizes):
    from ..nn import AE, VAE

    try:
        if args.model == "ae":
            return AE(sizes, loss=args.loss, loss_params=loss_params(ap, args.loss_param),
                      activation=args.activation, init=args.init, seed=args.seed)
        return VAE(sizes, likelihood=args.likelihood, sigma=args.sigma, kappa=args.kappa,
                   decoder=args.decoder, activation=args.activation, init=args.init,
                   seed=args.seed)
    except (ValueError, KeyError) as err:
        ap.error(err.args[0] if isinstance(err, KeyError) and err.args else str(err))


def _check_outputs(ap, args) -> None:
    """Before any work: --out writable; an existing run in --out kept unless --resume or
    --force; committed folders (figures/, studies/) written only with --force."""
    from .._io import check_writable, refuse_overwrite
    from ..nn.training import CHECKPOINT, METRICS

    if args.resume and not args.out:
        ap.error("--resume needs --out (the folder of the run to continue)")
    if args.save_recon and not args.out:
        ap.error(f"--save-recon needs --out (the folder to write {RECON}.pdf and .png into)")
    if not args.out:
        return
    try:
        check_writable(args.out, "--out")
        existing = [name for name in (CHECKPOINT, METRICS) if (Path(args.out) / name).exists()]
        if existing and not (args.resume or args.force):
            ap.error(f"--out: {args.out!r} already holds a run ({existing[0]}); pass --resume "
                     "to continue it or --force to start over")
        names = [CHECKPOINT, METRICS] + ([f"{RECON}.pdf", f"{RECON}.png"]
                                         if args.save_recon else [])
        refuse_overwrite([Path(args.out) / n for n in names], force=args.force)
    except (ValueError, FileExistsError) as err:
        ap.error(str(err))


def run(args) -> int:
    """Train as the parsed ``args`` say; return the exit status."""
    from .. import _text

    ap = args.parser
    _check_outputs(ap, args)
    # A bad loss or size is reported before any data is read: the model is built first with the
    # given sizes, or (default sizes: they follow the data) as a small stand-in.
    given = layer_sizes(ap, args.layers) if args.layers else None
    model = _build_model(ap, args, given or (2, 2))
    x_train, x_test = load_data(ap, args)
    data = args.images
    if given:
        layer_sizes(ap, args.layers, x_train.shape[1])
    else:
        from ..nn import default_layers
        model = _build_model(ap, args, default_layers(args.model, x_train.shape[1]))
    from ..nn import TrainingDiverged, format_summary, summarize, train

    if not args.quiet:
        print(f"{model.architecture()}; {_text.terminal(data.name)}: {len(x_train)} training, "
              f"{len(x_test)} test images", file=sys.stderr)
    described = {"name": data.name, "source": data.source, "split": data.split,
                 "shape": list(data.shape), "scale": data.scale}
    prog = ap.prog
    try:
        hist = train(model, x_train, x_test, epochs=args.epochs, batch_size=args.batch_size,
                     lr=args.lr, optimizer=args.optimizer, seed=args.seed, out_dir=args.out,
                     resume=args.resume, quiet=args.quiet, data=described)
    except TrainingDiverged as err:
        print(f"{prog}: error: {_text.terminal(err)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        where = f"; --resume continues from the last checkpoint in {args.out}" if args.out else ""
        print(f"interrupted{where}", file=sys.stderr)
        return 130
    except (ValueError, OSError) as err:
        # a checkpoint that does not fit these settings, a file that cannot be written
        print(f"{prog}: error: {_text.terminal(_text.one_line(str(err)))}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(format_summary(summarize(model, x_test, hist, seed=args.seed)), file=sys.stderr)
    if args.save_recon:
        from .. import plotting
        from ..nn.figures import reconstruction_figure

        fig = reconstruction_figure(model, x_test, seed=args.seed, columns=args.columns,
                                    shape=data.shape)
        try:
            paths = plotting.save(fig, Path(args.out) / RECON)
        except OSError as err:
            print(f"{prog}: error: --out: cannot write {RECON}.pdf/.png into {args.out!r} "
                  f"({err.strerror or err})", file=sys.stderr)
            return 2
        if not args.quiet:
            print("figure: " + ", ".join(str(p) for p in paths), file=sys.stderr)
    return 0


def register(subparsers):
    """Add ``train`` to an argparse ``subparsers`` object."""
    return subcommand(subparsers, "train", help=SUMMARIES["train"],
                      description=DESCRIPTION, arguments=arguments, run=run)


def main(argv=None, prog=None) -> int:
    """``train`` on its own (``scripts/train.py``)."""
    return standalone(argv, prog, description=DESCRIPTION, arguments=arguments, run=run)
