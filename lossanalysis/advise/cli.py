"""The ``advise`` subcommand of ``python -m lossanalysis``."""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from .._cli import (add_columns_argument, add_limit_argument, limits_from, nonnegative_int,
                    positive_float, positive_int)

__all__ = ["register", "run"]


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``advise`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "advise",
        help="which reconstruction loss suits a set of images, and why",
        description=(
            "Profile the intensities of a set of images, say what each candidate likelihood "
            "(Bernoulli/BCE, continuous Bernoulli, Beta, Gaussian/MSE) assumes and how far the "
            "data is from it, compute the likelihood scale (the Bernoulli's effective sigma, "
            "the linear-VAE rule's active dimensions and code rate), evaluate the predictions "
            "the experiments tested on this data with the measurements behind them, and "
            "recommend a decoder/loss per goal."),
    )
    p.add_argument("data", metavar="DATA",
                   help="a .npy/.npz array of images (N x H x W, N x H x W x C or N x D; "
                        "integers or floats; of an x_train/x_test archive the training images), "
                        "an IDX images file (.gz or not), or a folder of PNG/JPEG files "
                        "(subfolders included) or of IDX files")
    p.add_argument("--scale", type=positive_float, default=None,
                   help="divide the stored values by this (default: 255 for integers up to "
                        "255, their maximum with a warning when it is far below 255, 1 for "
                        "floats; e.g. --scale 255 for float data in 0-255)")
    p.add_argument("--one-image", action="store_true",
                   help="DATA is one image (an H x W or H x W x C array, or one image file), "
                        "not N images of D values")
    p.add_argument("--max-images", type=positive_int, default=None, metavar="N",
                   help="analyse a random N of the images (see --seed)")
    p.add_argument("--seed", type=nonnegative_int, default=0,
                   help="seed of the --max-images draw (default 0)")
    p.add_argument("--latent", type=positive_int, default=None, metavar="K",
                   help="latent size of the linear-VAE rule (default 20)")
    p.add_argument("--reports", default=None, metavar="DIR",
                   help="folder of the studies <name>/report.json (default: studies/ "
                        "of a source checkout)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output folder: also write DIR/advice.md and one figure DIR/advice.pdf "
                        "and .png (default: nothing is written)")
    p.add_argument("--force", action="store_true",
                   help="overwrite advice files in the checkout's committed folders (figures/, "
                        "studies/)")
    add_columns_argument(p, "the --out figure")
    p.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    add_limit_argument(p)
    p.set_defaults(func=run, parser=p)

    def one_line_error(message):    # no usage block: the error is the one line that matters
        p.exit(2, f"{p.prog}: error: {message}\n")

    p.error = one_line_error
    return p


def run(args: argparse.Namespace) -> int:
    """Run the subcommand; bad input ends in ``parser.error`` (exit status 2): one line, the
    user's strings escaped."""
    import shlex
    import sys

    from .. import _text
    from .._io import atomic_write, check_writable, refuse_overwrite
    from . import core, reports, stats
    from .render import FIGURE_STEM, advice_figure, to_markdown

    parser = args.parser

    def fail(message):
        parser.error(_text.terminal(message))

    limits = limits_from(args)
    if args.out is not None:
        try:
            check_writable(args.out, "--out")
            refuse_overwrite([Path(args.out) / name for name in
                              ("advice.md", FIGURE_STEM + ".pdf", FIGURE_STEM + ".png")],
                             force=args.force)
        except (ValueError, FileExistsError) as exc:
            fail(str(exc))
    if args.reports is not None and reports.find_reports(args.reports) is None:
        fail(f"--reports: {args.reports!r} is not a folder")
    folder = reports.find_reports(args.reports)
    try:
        source = _open(args, limits)
    except ValueError as exc:
        fail(f"DATA: {exc}")
    latent = args.latent if args.latent is not None else core.LATENT
    d = math.prod(source.image_shape)
    if latent > d:
        fail(f"--latent: {latent} exceeds the {d} values of an image")
    indices = stats.select_images(source.n, args.max_images, args.seed)
    images = source.read(indices)
    described = {"path": str(source.path), "kind": source.kind, "total": source.n,
                 "image_shape": list(source.image_shape), "dtype": source.dtype.name,
                 "seed": args.seed if indices is not None else None}
    try:
        loaded = reports.load_reports(folder, limits=limits) if folder is not None else {}
    except ValueError as exc:
        fail(f"--reports: {exc}")
    progress = _Progress(sys.stderr)
    try:
        advice = core.advise(images, scale=args.scale, latent=latent, reports=loaded,
                             name="DATA", source=described, limits=limits, progress=progress)
    except ValueError as exc:
        progress.clear()
        fail(str(exc))
    progress.clear()
    advice.notes[:0] = list(source.notes)
    for note in advice.notes[:len(source.notes)] + [n for n in advice.notes
                                                    if n.startswith("DATA:")]:
        print(f"warning: {_text.terminal(note)}", file=sys.stderr)
    title = Path(args.data).name
    command = f"python -m lossanalysis study {shlex.quote(args.data)}"
    if args.out is not None:
        out = Path(args.out)
        from .. import plotting
        fig = advice_figure(advice, columns=args.columns)
        try:
            plotting.save(fig, out / FIGURE_STEM)
            atomic_write(out / "advice.md", to_markdown(advice, title=title,
                                                        figure=FIGURE_STEM + ".png",
                                                        study=command))
        except OSError as exc:
            fail(f"--out: cannot write into {args.out!r} ({exc.strerror or exc})")
    if args.json:
        print(json.dumps(advice.to_dict(), indent=1, ensure_ascii=False))
    else:
        print(to_markdown(advice, title=title, study=command))
    return 0


class _Progress:
    """Where the analysis is, on stderr: rewritten in place about every second on a terminal,
    a plain line every 30 s otherwise; nothing for the first second (small data stays quiet)."""

    def __init__(self, stream, tty_seconds: float = 1.0, plain_seconds: float = 30.0):
        import time
        self.stream, self.clock = stream, time.monotonic
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.every = tty_seconds if self.tty else plain_seconds
        self.next = self.clock() + (tty_seconds if self.tty else plain_seconds)

    def __call__(self, stage, done, total):
        now = self.clock()
        if now < self.next:
            return
        self.next = now + self.every
        text = f"advise: {stage} {100 * done / max(total, 1):.0f}%"
        if self.tty:
            self.stream.write("\r" + text.ljust(60))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.shown = self.tty

    shown = False

    def clear(self):
        """Remove the line a terminal shows."""
        if self.shown:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()
            self.shown = False


def _open(args, limits):
    """The images named by DATA (with ``--one-image``), warnings about the reading kept."""
    import warnings

    from ..data import DataWarning, open_images

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return open_images(args.data, one_image=args.one_image, limits=limits)
