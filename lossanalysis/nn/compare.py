"""One network, several losses: train the same AE (or VAE) from one initialization with each loss
and compare what they reconstruct.

:func:`compare_losses` builds the model once per loss from the same seed (so every loss starts
from the very same weights and sees the same data order) and measures on test images:

* the test loss of each (in its own unit) and the per-pixel squared error of its
  reconstructions (one scale for all);
* the **per-intensity error**: mean signed error ``p - y`` and mean absolute error
  ``|p - y|`` of the reconstructed intensity ``p`` (the mean image; for a VAE at the posterior
  mean) against the target intensity ``y``, in bins of ``y`` -- where a loss biases grey
  values toward 1/2 or toward the ends, the signed error shows it;
* the **blur ratio**: the mean gradient magnitude of the test images, ``|grad y|`` by forward
  differences between neighbouring pixels (:func:`sharpness`), over that of their
  reconstructions (1 = as sharp as the data, above 1 = blurrier), the measure the studies
  report as ``blur_ratio``.

:func:`comparison_figure` draws it (reconstructions, the two error curves, the blur ratio) and
:func:`format_comparison` makes a small table; ``lossanalysis compare`` is the command.
"""

from __future__ import annotations

import sys

import numpy as np

from .likelihoods import LIKELIHOODS, Catalogue, make_likelihood
from .models import AE, VAE
from .training import train

from .models import DEFAULT_LAYERS, default_layers

__all__ = ["compare_losses", "intensity_errors", "sharpness", "comparison_figure",
           "format_comparison", "DEFAULT_LAYERS", "default_layers"]


def intensity_errors(y, p, bins: int = 10) -> dict:
    """Mean signed and absolute error of predictions ``p`` against targets ``y``, binned by the
    target intensity.

    Parameters
    ----------
    y, p : arrays of the same shape
        Targets in [0, 1] and predictions.
    bins : int
        Equal-width bins over [0, 1] (the last one includes 1).

    Returns
    -------
    dict
        ``edges`` (``bins + 1``), ``centers``, ``count`` (pixels per bin), ``signed`` (mean of
        ``p - y``) and ``absolute`` (mean of ``|p - y|``) per bin (NaN for empty bins).

    Examples
    --------
    >>> e = intensity_errors(np.array([0.0, 0.05, 1.0]), np.array([0.1, 0.05, 0.8]), bins=2)
    >>> e["count"].tolist(), e["signed"].round(3).tolist()
    ([2, 1], [0.05, -0.2])
    """
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    y = np.asarray(y, dtype=np.float64).ravel()
    p = np.asarray(p, dtype=np.float64).ravel()
    if y.shape != p.shape:
        raise ValueError(f"y and p must have the same size, got {y.size} and {p.size}")
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.searchsorted(edges, y, side="right") - 1, 0, bins - 1)
    count = np.bincount(idx, minlength=bins)
    d = p - y
    with np.errstate(invalid="ignore", divide="ignore"):
        signed = np.bincount(idx, weights=d, minlength=bins) / count
        absolute = np.bincount(idx, weights=np.abs(d), minlength=bins) / count
    return {"edges": edges, "centers": 0.5 * (edges[:-1] + edges[1:]), "count": count,
            "signed": signed, "absolute": absolute}


def sharpness(images, shape=None) -> float:
    """Mean gradient magnitude of images ``(n, D)`` of ``shape`` (H, W) or (H, W, C) (default:
    square): the mean over images, pixels and channels of ``sqrt(dx^2 + dy^2)``, with forward
    differences between horizontal and vertical neighbours (on the ``(H-1) x (W-1)`` grid where
    both exist), in intensity per pixel.  Rows of values (shape (D,)) have only ``dx``.

    >>> sharpness(np.array([[0.0, 1.0, 0.0, 1.0]]))   # 2x2: one pixel with dx = 1, dy = 0
    1.0
    """
    from .figures import image_shape

    images = np.asarray(images, dtype=np.float64)
    h, w, *c = image_shape(images.shape[1], shape)
    img = images.reshape(-1, h, w, c[0] if c else 1)
    if h == 1:
        return float(np.mean(np.abs(np.diff(img, axis=2))))
    dx = img[:, :-1, 1:] - img[:, :-1, :-1]
    dy = img[:, 1:, :-1] - img[:, :-1, :-1]
    return float(np.mean(np.hypot(dx, dy)))


def _term(name, model):
    """The output term for ``name``: a likelihood for a VAE when it is one, else the catalogue
    loss (for a VAE: its reconstruction term)."""
    if model == "vae" and name in LIKELIHOODS:
        return make_likelihood(name)
    return Catalogue(name)


def _build(model, layers, name, seed):
    if model == "ae":
        return AE(layers, loss=_term(name, model), seed=seed)
    return VAE(layers, likelihood=_term(name, model), seed=seed)


def compare_losses(losses, x_train, x_test, *, model: str = "ae", layers=None, epochs: int = 5,
                   batch_size: int = 128, lr: float = 1e-3, seed: int = 0, bins: int = 10,
                   n_show: int = 8, quiet: bool = False, log=None, shape=None) -> dict:
    """Train the same network from one initialization with each of ``losses``; measure them.

    Parameters
    ----------
    losses : list of str
        Two or more catalogue losses (for ``model="vae"`` also likelihood names: bernoulli,
        gaussian, continuous_bernoulli, beta).
    x_train, x_test : arrays ``(n, pixels)`` in [0, 1]
    model : ``"ae"`` or ``"vae"``
    layers : sequence of int, optional
        Layer sizes (default :func:`default_layers` for the data's number of values).
    epochs, batch_size, lr, seed
        Training settings, the same for every loss (``seed`` fixes the initialization, the data
        order and the VAE noise).
    bins : int
        Intensity bins of :func:`intensity_errors`.
    n_show : int
        Test images kept for the figure.
    quiet, log
        Progress (per loss and per epoch) goes to ``log`` (default stderr) unless ``quiet``.
    shape : tuple, optional
        One image's shape (H, W), (H, W, C) or (D,) for the sharpness and the figure (default:
        square).

    Returns
    -------
    dict
        ``losses``, ``model`` (its architecture line), ``settings``, ``x_show`` (the shown test
        images), ``data_sharpness`` and per loss in ``results[name]``: ``test_loss``,
        ``unit``, ``pixel_mse``, ``errors`` (:func:`intensity_errors` over all test pixels),
        ``blur_ratio`` (:func:`sharpness` of the data over that of the reconstructions; inf
        for a flat reconstruction),
        ``recon`` (reconstructions of ``x_show``) and ``seconds``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = (rng.random((64, 16)) > 0.6).astype(np.float32)
    >>> r = compare_losses(["mse", "bce"], x[:48], x[48:], layers=(16, 8, 4), epochs=1,
    ...                    batch_size=16, quiet=True)
    >>> sorted(r["results"]), r["results"]["mse"]["unit"]
    (['bce', 'mse'], 'intensity²')
    """
    import time

    if model not in DEFAULT_LAYERS:
        raise ValueError(f"model must be 'ae' or 'vae', got {model!r}")
    losses = list(losses)
    if len(losses) < 2 or len(set(losses)) != len(losses):
        raise ValueError(f"losses must name two or more different losses, got {losses}")
    log = log if log is not None else sys.stderr
    x_train = np.asarray(x_train)
    x_test = np.asarray(x_test)
    if layers is None:
        layers = default_layers(model, x_train.shape[1])
    layers = tuple(int(v) for v in layers)
    nets = [_build(model, layers, name, seed) for name in losses]   # checks every loss first
    start = {k: v for k, v in nets[0].get_params().items() if not k.startswith("lik.")}
    x_test = nets[0].check_data(x_test, "x_test")
    x_show = x_test[:n_show]
    data_sharp = sharpness(x_test, shape)
    results = {}
    for i, (name, net) in enumerate(zip(losses, nets)):
        net.set_params(start)              # one initialization for all (the same seed anyway)
        if not quiet:
            print(f"[{i + 1}/{len(losses)}] {net.architecture()}", file=log, flush=True)
        t = time.perf_counter()
        hist = train(net, x_train, x_test, epochs=epochs, batch_size=batch_size, lr=lr,
                     seed=seed, quiet=quiet, log=log)
        seconds = time.perf_counter() - t
        with np.errstate(all="ignore"):
            recon = np.concatenate([net.reconstruct(x_test[j:j + 1000])
                                    for j in range(0, len(x_test), 1000)])
        err = intensity_errors(x_test, recon, bins)
        with np.errstate(divide="ignore"):                 # a flat reconstruction: inf
            blur = float(np.float64(data_sharp) / sharpness(recon, shape))
        results[name] = {"test_loss": hist["test_loss"][-1], "unit": net.unit,
                         "pixel_mse": float(np.mean((recon.astype(np.float64) - x_test) ** 2)),
                         "errors": err, "blur_ratio": blur,
                         "recon": recon[:n_show], "seconds": seconds}
    return {"losses": losses, "model": nets[0].architecture().split(",")[0],
            "settings": {"epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed,
                         "n_train": int(len(x_train)), "n_test": int(len(x_test)),
                         "layers": list(layers),
                         "shape": None if shape is None else list(shape)},
            "x_show": x_show, "data_sharpness": data_sharp, "results": results}


def format_comparison(result) -> str:
    """A small table of :func:`compare_losses` results.

    >>> r = {"losses": ["mse"], "results": {"mse": {"test_loss": 20.0, "unit": "intensity²",
    ...      "pixel_mse": 0.0255, "blur_ratio": 1.25, "errors": {"signed": np.array([0.01, -0.1]),
    ...      "absolute": np.array([0.02, 0.1]), "count": np.array([3, 1])}}}}
    >>> print(format_comparison(r))
    loss  test loss per image      per-pixel MSE  mean |error|  mean error  blur ratio
    mse   20.00 (intensity²)           0.02550       0.0400      -0.0175       1.25
    """
    head = (f"{'loss':<{_w(result)}}  {'test loss per image':<23}  {'per-pixel MSE':>13}  "
            f"{'mean |error|':>12}  {'mean error':>10}  {'blur ratio':>10}")
    lines = [head]
    for name in result["losses"]:
        r = result["results"][name]
        e = r["errors"]
        count = np.asarray(e["count"], dtype=np.float64)
        ok = count > 0
        absolute = float(np.sum(np.asarray(e["absolute"])[ok] * count[ok]) / count.sum())
        signed = float(np.sum(np.asarray(e["signed"])[ok] * count[ok]) / count.sum())
        loss = f"{r['test_loss']:.2f} ({r['unit']})"
        lines.append(f"{name:<{_w(result)}}  {loss:<23}  {r['pixel_mse']:13.5f}  "
                     f"{absolute:12.4f}  {signed:10.4f}  {r['blur_ratio']:10.2f}")
    return "\n".join(lines)


def _w(result):
    return max(4, max(len(n) for n in result["losses"]))


def comparison_figure(result, *, columns: int = 2):
    """Reconstructions of each loss under the test images, then three panels: mean signed error
    and mean absolute error against the target intensity, and the blur ratio (the data's mean
    gradient magnitude over the reconstructions').

    >>> rng = np.random.default_rng(0)
    >>> x = (rng.random((40, 16)) > 0.6).astype(np.float32)
    >>> r = compare_losses(["mse", "bce"], x[:32], x[32:], layers=(16, 8, 4), epochs=1,
    ...                    batch_size=16, quiet=True)
    >>> fig = comparison_figure(r, columns=1)
    >>> round(float(fig.get_size_inches()[0]), 1)
    3.4
    """
    from .. import plotting
    from .figures import draw_rows

    losses = result["losses"]
    bar_h = 0.22 * len(losses) + 0.45          # the blur-ratio panel (1 column: its own row)
    legend_h, xlabel_h, panel_h = 0.22, 0.42, 1.35
    if columns == 2:
        extra = legend_h + xlabel_h + panel_h + 0.2
        # (left, bottom, width, height) in inches, from the figure's lower left corner
        boxes = [(0.55, legend_h + xlabel_h, 1.75, panel_h),
                 (2.95, legend_h + xlabel_h, 1.75, panel_h),
                 (5.2, legend_h + xlabel_h, 1.6, panel_h)]
    else:
        extra = legend_h + 2 * xlabel_h + panel_h + bar_h + 0.2
        low = legend_h + xlabel_h
        high = low + bar_h + 0.1 + xlabel_h
        boxes = [(0.55, high, 1.05, panel_h), (2.2, high, 1.05, panel_h),
                 (0.55, low, 2.7, bar_h)]
    rows = [("test images", result["x_show"])] + [
        (plotting.display_name(name), result["results"][name]["recon"]) for name in losses]
    shape = result.get("settings", {}).get("shape")
    fig, _ = draw_rows(rows, columns=columns, extra_bottom=extra, shape=shape)
    width, height = fig.get_size_inches()
    with plotting.style():
        axes = [fig.add_axes((x0 / width, y0 / height, w / width, h / height))
                for x0, y0, w, h in boxes]
        ax_s, ax_a, ax_b = axes
        for i, name in enumerate(losses):
            e = result["results"][name]["errors"]
            kw = {"color": plotting.color(name, i), "ls": plotting.linestyle(name),
                  "marker": plotting.marker(name), "label": plotting.display_name(name)}
            ax_s.plot(e["centers"], e["signed"], **kw)
            ax_a.plot(e["centers"], e["absolute"], **kw)
        plotting.guides(ax_s, y=[0])
        ax_s.set_xlabel(plotting.axis_label("target y", "intensity"))
        ax_s.set_ylabel(plotting.axis_label("mean error p − y", "intensity"))
        ax_a.set_xlabel(plotting.axis_label("target y", "intensity"))
        ax_a.set_ylabel(plotting.axis_label("mean |p − y|", "intensity"))
        for ax in (ax_s, ax_a):
            ax.set_xlim(0, 1)
        values = [result["results"][n]["blur_ratio"] for n in losses]
        right = max(1.1, max([v for v in values if np.isfinite(v)] or [1.0]) * 1.1)
        ypos = np.arange(len(losses))
        ax_b.barh(ypos, [min(v, right) for v in values],      # a flat reconstruction: inf
                  color=[plotting.color(n, i) for i, n in enumerate(losses)], height=0.6)
        plotting.guides(ax_b, x=[1])
        ax_b.set_yticks(ypos, [plotting.display_name(n) for n in losses])
        ax_b.invert_yaxis()
        ax_b.set_xlim(0, right)
        ax_b.set_xlabel(plotting.axis_label("blur ratio |∇y| / |∇p|", "ratio"))
        handles, labels = ax_s.get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncols=len(losses), frameon=False,
                   bbox_to_anchor=(0.5, 0.0), handlelength=2.0)
    return fig
