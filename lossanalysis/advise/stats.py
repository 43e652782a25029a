"""One streamed pass over a set of images: the pixel profile, the mean image, the covariance.

The images are read in blocks of about :data:`BLOCK_VALUES` values and converted to float64 one
block at a time, so memory stays at the data in its stored type plus one float64 block and the
spectrum's work space, whatever the number of images.  Two passes: the first checks the values,
counts the pixel levels and sums the mean image; the second accumulates each location's
variance and mean absolute deviation and, for images of up to :data:`EXACT_D` values, the
centred cross products (exact centring, no cancellation).

The covariance spectrum (and its Bernoulli-whitened twin) is bounded in D:

* D <= :data:`EXACT_D`: the D x D covariance, diagonalized exactly (O(D^2) memory, O(D^3) time);
* more values, at most :data:`GRAM_N` images: the N x N Gram matrix of the centred images,
  accumulated over column blocks, whose eigenvalues are exactly the non-zero ones of the
  covariance (O(N^2) memory, O(N^2 D) time): 3 images of 100,000 values take milliseconds;
* more values and images: the top :data:`TOP` eigenvalues by a randomized range finder with
  one power iteration (Halko, Martinsson & Tropp 2011, algorithms 4.3 and 5.1), streamed over
  the images (O(D TOP) memory, five passes); the rest of the spectrum is known by its sum (the
  exact total variance), which is all the linear-VAE rule needs beyond the latent size.

The spectrum functions here take the streamed moments where :mod:`lossanalysis.analysis`'s
``spectrum``, ``whitened_spectrum`` and ``bernoulli_sigma_zero_rate`` take the data matrix
(which would need the whole float64 copy of the data); they compute the same quantities and the
tests check them against those functions.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import analysis
from .._inputs import real_array
from ..losses import get_loss

__all__ = ["BLOCK_ROWS", "BLOCK_VALUES", "EXACT_D", "GRAM_N", "TOP", "HIST_BINS", "NEAR", "MIDGREY", "DataError", "DataStats",
           "select_images", "scan", "spectrum_from_moments", "whitened_spectrum_from_moments",
           "sigma_zero_rate_from_moments", "linear_reconstruction_mse", "learned_sigma"]

#: Images per block of the streamed passes for MNIST-sized images (2048 x 784 float64 = 12.8 MB).
BLOCK_ROWS = 2048
#: Values per block of the streamed passes: a block holds ``max(1, BLOCK_VALUES // D)`` images.
BLOCK_VALUES = BLOCK_ROWS * 784
#: Values per image up to which the covariance is formed and diagonalized exactly.
EXACT_D = 2048
#: Images up to which a larger D gets its exact spectrum from the N x N Gram matrix.
GRAM_N = 512
#: Leading eigenvalues estimated by the randomized route (the rest: their sum).
TOP = 128
#: Bins of the intensity histogram (of the values strictly between 0 and 1).
HIST_BINS = 50
#: "Near-binary": within this distance of 0 or 1 (the definition of claim 8).
NEAR = 0.1
#: "Mid-grey": strictly between these (the reports' definition).
MIDGREY = (0.2, 0.8)


class DataError(ValueError):
    """The images cannot be analysed as given (range, NaN, too few); the message names them."""


def select_images(n: int, max_images: int | None = None, seed: int = 0):
    """Sorted indices of ``max_images`` of ``n`` images drawn without replacement with
    ``numpy.random.default_rng(seed)``, or None (all of them) when ``n <= max_images``.

    Examples
    --------
    >>> select_images(10, 3, seed=0)
    array([5, 6, 9])
    >>> select_images(10, None) is None
    True
    """
    if max_images is None or n <= max_images:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, max_images, replace=False))


@dataclass
class DataStats:
    """What :func:`scan` measures.  Counts are over all ``n * d`` values.

    ``levels``: per-level counts (256) when the data are 8-bit levels v/255, else None.
    ``hist_counts``: counts of the values strictly inside (0, 1) in :data:`HIST_BINS` equal bins.
    ``ln_c_sum``: sum over the values strictly inside (0, 1) of ln C(x), the continuous
    Bernoulli's log normalizer at lambda = x.  ``cb_extreme_sum``, ``data_extreme_sum``: sums
    over the mid-grey values of |lambda*(x) - 1/2| (lambda* = argmin of the continuous Bernoulli
    loss) and of |x - 1/2|.  ``mean``: the mean image (d,); ``cov``: the covariance (d, d),
    normalized by n (None above :data:`EXACT_D` values); ``var``: its diagonal; ``mad``: per
    location the sum over images of |x - mean|; ``scale``: the divisor applied to the stored
    values.  ``spectrum``, ``whitened``: the covariance's eigenvalues and those of the
    Bernoulli-whitened covariance (see :func:`whitened_spectrum_from_moments`), descending, of
    full length (D, and the number of locations with 0 < m < 1); ``known``: how many leading
    eigenvalues of each are computed individually (all of them, except by the randomized route,
    whose remaining entries share the rest of the exact trace evenly); ``method``:
    ``"covariance"``, ``"gram"`` or ``"randomized"``.
    """
    n: int
    d: int
    zero: int
    one: int
    near: int
    mid: int
    interior: int
    hist_counts: np.ndarray
    ln_c_sum: float
    cb_extreme_sum: float
    data_extreme_sum: float
    levels: np.ndarray | None
    integer_max_one: bool
    scale: float
    mean: np.ndarray
    cov: np.ndarray | None
    mad: np.ndarray
    var: np.ndarray = None
    spectrum: np.ndarray = None
    whitened: np.ndarray = None
    known: tuple = (0, 0)
    method: str = "covariance"

    @property
    def n_values(self) -> int:
        return self.n * self.d

    def fraction(self, count: int) -> float:
        return count / self.n_values


def _value_sums(values, counts) -> dict:
    """The profile sums of a set of distinct values in [0, 1] with their counts."""
    v = np.asarray(values, dtype=np.float64)
    c = np.asarray(counts, dtype=np.int64)
    inner = (v > 0) & (v < 1)
    mid = (v > MIDGREY[0]) & (v < MIDGREY[1])
    hist = np.histogram(v[inner], bins=np.linspace(0, 1, HIST_BINS + 1), weights=c[inner])[0]
    out = {"zero": int(c[v == 0].sum()), "one": int(c[v == 1].sum()),
           "near": int(c[(v <= NEAR) | (v >= 1 - NEAR)].sum()), "mid": int(c[mid].sum()),
           "interior": int(c[inner].sum()), "hist": np.rint(hist).astype(np.int64),
           "ln_c": 0.0, "cb_extreme": 0.0, "data_extreme": 0.0}
    if np.any(inner):
        # ln C(x) = BCE(x, x) - CB(x, x): what BCE leaves out of the continuous Bernoulli's NLL,
        # taken from the catalogue (no formula here)
        vi = v[inner]
        ln_c = (get_loss("bce").value(vi, vi) - get_loss("continuous_bernoulli").value(vi, vi))
        out["ln_c"] = float(np.dot(ln_c, c[inner]))
    if np.any(mid):
        vm = v[mid]
        lam = np.asarray(analysis.argmin("continuous_bernoulli", vm), dtype=np.float64)
        out["cb_extreme"] = float(np.dot(np.abs(lam - 0.5), c[mid]))
        out["data_extreme"] = float(np.dot(np.abs(vm - 0.5), c[mid]))
    return out


def _first_bad(block, ok, offset, name, scale):
    i, j = np.argwhere(~ok)[0]
    value = block[i, j].item()
    where = f"image {offset + int(i)}, value {int(j)}"
    if isinstance(value, float) and math.isnan(value):
        return DataError(f"{name} holds NaN ({where})")
    values = "values" if scale == 1 else f"values divided by {scale:g}"
    hint = ("; for float images in 0-255 pass --scale 255"
            if scale == 1 and 1 < value <= 255 else "")
    return DataError(f"{name}: {values} must lie in [0, 1]; got {value!r} ({where}){hint}")


def _rows_per_block(d: int, block_values: int) -> int:
    return max(1, block_values // max(d, 1))


def _blocks(images, indices, rows):
    n = len(images) if indices is None else len(indices)
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        part = images[start:stop] if indices is None else images[indices[start:stop]]
        yield start, np.asarray(part).reshape(stop - start, -1)


def _columns(images, indices, c0, c1):
    """Values ``c0:c1`` of every (selected) image, as stored."""
    flat = images.reshape(len(images), -1)
    return np.asarray(flat[:, c0:c1] if indices is None else flat[indices, c0:c1])


def _spectrum_desc(values, size) -> np.ndarray:
    """Eigenvalues descending, clipped at 0, padded with zeros to ``size``."""
    lam = np.clip(np.sort(np.asarray(values, dtype=np.float64))[::-1], 0.0, None)[:size]
    return np.concatenate([lam, np.zeros(size - lam.size)])


def _gram_spectrum(columns, n, d, cols) -> np.ndarray:
    """The non-zero eigenvalues of X^T X / n from the n x n Gram matrix X X^T / n, with
    ``columns(c0, c1)`` giving the float64 columns c0:c1 of X (n x (c1 - c0))."""
    gram = np.zeros((n, n))
    for c0 in range(0, d, cols):
        x = columns(c0, min(c0 + cols, d))
        gram += x @ x.T
    return np.linalg.eigvalsh(gram / n)


def _randomized_top(rows, n, d, k, seed=0, oversample=16, power=1) -> np.ndarray:
    """The top ``k`` eigenvalues of X^T X / n by a randomized range finder with ``power``
    power iterations (Halko, Martinsson & Tropp 2011, algorithms 4.3/4.4 and 5.1); ``rows()``
    yields ``(start, block)`` of X in float64.  Estimates from below, accurate for the leading
    ones (the tests compare them with the exact spectrum)."""
    width = min(k + oversample, n, d)
    rng = np.random.default_rng(seed)
    omega = rng.standard_normal((d, width))
    y = np.empty((n, width))
    for start, x in rows():
        y[start:start + len(x)] = x @ omega
    del omega
    for _ in range(power):
        q = np.linalg.qr(y)[0]
        z = np.zeros((d, width))
        for start, x in rows():
            z += x.T @ q[start:start + len(x)]
        z = np.linalg.qr(z)[0]
        for start, x in rows():
            y[start:start + len(x)] = x @ z
        del z
    q = np.linalg.qr(y)[0]
    b = np.zeros((width, d))
    for start, x in rows():
        b += q[start:start + len(x)].T @ x
    sv = np.linalg.svd(b, compute_uv=False)
    return (sv[:k] ** 2) / n


def scan(images, *, indices=None, scale: float | None = None, name: str = "data",
         min_images: int = 2, block_rows: int | None = None, clip: bool = False,
         block_values: int = BLOCK_VALUES, seed: int = 0, top: int = TOP,
         progress=None) -> DataStats:
    """Check and measure ``images`` (an array ``(N, ...)``, possibly memory-mapped).

    Parameters
    ----------
    images : array_like
        N images of any shape; each is flattened to its ``d`` values.  Integer (and bool)
        images are divided by ``scale`` (default 255; bool: 0 and 1 as they are), float images
        by ``scale`` (default 1).  The scaled values must lie in [0, 1].
    indices : sorted array of int, optional
        Analyse only these images (see :func:`select_images`).
    scale : float, optional
        The divisor described above.
    name : str
        How error messages name the data (the CLI passes ``DATA``).
    min_images : int
        Fewer images than this raise :class:`DataError` (a covariance needs 2).
    block_rows, block_values : int, optional
        Images per streamed block (default: ``block_values // d``, at least 1).
    clip : bool
        Clip scaled values lying within ``lossanalysis.data.ROUNDING`` outside [0, 1] (rounding,
        as :func:`lossanalysis.data.infer_scale` decides) into [0, 1].
    seed, top : int
        Seed of the randomized spectrum and how many leading eigenvalues it estimates (used
        only above :data:`EXACT_D` values and :data:`GRAM_N` images).
    progress : callable, optional
        ``progress(stage, done, total)`` after each block: ``stage`` names the pass, ``done``
        of ``total`` images (or values for the Gram matrix's column blocks) are through it.

    Returns
    -------
    DataStats

    Raises
    ------
    DataError
        For NaN, values outside [0, 1] after scaling, or fewer than ``min_images`` images.

    Examples
    --------
    >>> s = scan(np.array([[0, 255, 51], [0, 255, 153]], dtype=np.uint8))
    >>> s.zero, s.one, s.mid, [float(v) for v in s.mean]
    (2, 2, 1, [0.0, 1.0, 0.4])
    >>> scan(np.array([[0.5, 1.5], [0.0, 0.2]]), name="DATA")
    Traceback (most recent call last):
    ...
    lossanalysis.advise.stats.DataError: DATA: values must lie in [0, 1]; got 1.5 (image 0, value 1); for float images in 0-255 pass --scale 255
    """
    arr = images if hasattr(images, "dtype") else real_array(images, name)
    kind = np.dtype(arr.dtype).kind
    scale = _checked_scale(kind, arr.dtype, scale, name)
    n = len(arr) if indices is None else len(indices)
    if n < min_images:
        raise DataError(f"{name} holds {n} image{'s' if n != 1 else ''}; at least {min_images} "
                        "are needed (a covariance needs two)")
    d = int(np.prod(arr.shape[1:], dtype=np.int64))
    if d < 1:
        raise DataError(f"{name}: each image must hold at least one value, got shape "
                        f"{arr.shape[1:]}")
    rows = block_rows if block_rows is not None else _rows_per_block(d, block_values)
    stream = _Stream(arr, indices, rows, n, d, scale, clip,
                     progress or (lambda stage, done, total: None))
    as_levels = kind in "iu" and scale == 255.0
    mean, sums, level_counts, int_max = _profile_pass(stream, kind, as_levels, name)
    cov, var, mad = _moment_pass(stream, mean)
    lam, white, known, method = _spectra(stream, mean, var, cov, block_values, seed, top)
    return DataStats(n=n, d=d, zero=sums["zero"], one=sums["one"], near=sums["near"],
                     mid=sums["mid"], interior=sums["interior"], hist_counts=sums["hist"],
                     ln_c_sum=sums["ln_c"], cb_extreme_sum=sums["cb_extreme"],
                     data_extreme_sum=sums["data_extreme"],
                     levels=level_counts if as_levels else None,
                     integer_max_one=(kind in "iu" and int_max <= 1), scale=float(scale),
                     mean=mean, cov=cov, mad=mad, var=var, spectrum=lam, whitened=white,
                     known=known, method=method)


def _checked_scale(kind, dtype, scale, name) -> float:
    """The divisor of the stored values: ``scale``, or the default of the dtype's kind
    (integers 255, floats 1; booleans are 0 and 1 and take none)."""
    if kind not in "biuf":
        raise DataError(f"{name} must be numbers (bool, integer or float), got dtype {dtype}")
    if kind == "b":
        if scale is not None:
            raise DataError(f"{name}: boolean images are 0 and 1; --scale does not apply")
        scale = 1.0
    elif scale is None:
        scale = 255.0 if kind in "iu" else 1.0
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise DataError(f"scale must be a finite number > 0, got {scale!r}")
    return scale


@dataclass
class _Stream:
    """The (selected) images read in blocks: ``n`` images of ``d`` values, ``rows`` images per
    block, divided by ``scale`` (and clipped into [0, 1] when ``clip``); ``report(stage, done,
    total)`` after each block."""
    images: object
    indices: object
    rows: int
    n: int
    d: int
    scale: float
    clip: bool
    report: object

    def blocks(self):
        """``(start, block)`` of the stored values, ``block`` of shape (images, d)."""
        return _blocks(self.images, self.indices, self.rows)

    def unit(self, block):
        """A block of stored values as float64 intensities (clipped when asked)."""
        x = block.astype(np.float64)
        x /= self.scale
        if self.clip:
            np.clip(x, 0.0, 1.0, out=x)
        return x

    def columns(self, c0, c1):
        """Values ``c0:c1`` of every image as float64 intensities."""
        return self.unit(_columns(self.images, self.indices, c0, c1))


def _profile_pass(stream, kind, as_levels, name):
    """Pass 1: check every value, count the levels, sum the mean image.  Returns the mean
    image, the profile sums (:func:`_value_sums`), the 256 level counts (8-bit levels) and the
    largest stored integer."""
    from ..data import ROUNDING

    n, d, scale, clip = stream.n, stream.d, stream.scale, stream.clip
    tol = ROUNDING if clip else 0.0
    total = np.zeros(d)
    col_min = np.full(d, np.inf)
    col_max = np.full(d, -np.inf)
    level_counts = np.zeros(256, dtype=np.int64)
    sums = None
    int_max = 0
    for start, block in stream.blocks():
        stream.report("profile", start + len(block), n)
        if kind in "iu":
            lo, hi = int(block.min()), int(block.max())
            int_max = max(int_max, hi)
            if lo < 0 or hi > scale:
                ok = (block >= 0) & (block <= scale)
                raise _first_bad(block, ok, start, name, scale)
        x = block.astype(np.float64)
        if not as_levels:
            x /= scale
            ok = (x >= -tol) & (x <= 1 + tol)
            if not ok.all():
                raise _first_bad(block if kind == "f" else x, ok, start, name, scale)
            if clip:
                np.clip(x, 0.0, 1.0, out=x)
        total += x.sum(axis=0)
        np.minimum(col_min, x.min(axis=0), out=col_min)
        np.maximum(col_max, x.max(axis=0), out=col_max)
        if as_levels:
            level_counts += np.bincount(block.astype(np.uint8).ravel(), minlength=256)
        else:
            part = _value_sums(*np.unique(x, return_counts=True))
            sums = part if sums is None else {k: sums[k] + part[k] for k in sums}
    if as_levels:
        levels = np.nonzero(level_counts)[0]
        sums = _value_sums(levels / 255.0, level_counts[levels])
        total /= 255.0
        col_min /= 255.0
        col_max /= 255.0
    mean = total / n
    # a location where every image has the same value has exactly that mean (the sum / n
    # would be off by rounding, and its variance a spurious 1e-34 instead of 0)
    const = col_min == col_max
    mean[const] = col_min[const]
    return mean, sums, level_counts, int_max


def _moment_pass(stream, mean):
    """Pass 2: the covariance (normalized by n; None above :data:`EXACT_D` values), each
    location's variance and its sum over images of |x - mean|."""
    n, d = stream.n, stream.d
    exact = d <= EXACT_D
    cov = np.zeros((d, d)) if exact else None
    var = np.zeros(d)
    mad = np.zeros(d)
    for start, block in stream.blocks():
        stream.report("covariance" if exact else "variances", start + len(block), n)
        xc = stream.unit(block)
        xc -= mean
        if exact:
            cov += xc.T @ xc
        var += np.einsum("ij,ij->j", xc, xc)
        mad += np.abs(xc).sum(axis=0)
    var /= n
    if exact:
        cov /= n
    return cov, var, mad


def _spectra(stream, mean, var, cov, block_values, seed, top):
    """The covariance spectrum and the Bernoulli-whitened one, by the route D and N allow (see
    the module docstring): ``(spectrum, whitened, known, method)`` as in :class:`DataStats`."""
    n, d = stream.n, stream.d
    bern, keep = _bernoulli_scaling(mean)
    inv = 1.0 / np.sqrt(bern[keep])
    d_keep = int(keep.sum())
    if cov is not None:
        return (spectrum_from_moments(cov), whitened_spectrum_from_moments(mean, cov),
                (d, d_keep), "covariance")
    if n <= GRAM_N:
        cols = _rows_per_block(n, block_values)

        def plain(c0, c1):
            stream.report("spectrum (Gram matrix)", c1, d)
            return stream.columns(c0, c1) - mean[c0:c1]

        lam = _spectrum_desc(_gram_spectrum(plain, n, d, cols), d)
        kept = np.flatnonzero(keep)

        def whitened(c0, c1):
            stream.report("whitened spectrum (Gram matrix)", c1, d_keep)
            idx = kept[c0:c1]
            lo, hi = (int(idx[0]), int(idx[-1]) + 1) if idx.size else (0, 0)
            x = stream.columns(lo, hi)[:, idx - lo]
            return (x - mean[idx]) * inv[c0:c1]

        white = (_spectrum_desc(_gram_spectrum(whitened, n, d_keep, cols), d_keep)
                 if d_keep else np.zeros(0))
        return lam, white, (d, d_keep), "gram"

    def centred():
        for start, block in stream.blocks():
            stream.report("spectrum (randomized, 4 passes)", start + len(block), n)
            yield start, stream.unit(block) - mean

    def centred_white():
        for start, block in stream.blocks():
            stream.report("whitened spectrum (randomized, 4 passes)", start + len(block), n)
            yield start, (stream.unit(block)[:, keep] - mean[keep]) * inv

    lam = _with_tail(_randomized_top(centred, n, d, min(top, d), seed), float(var.sum()), d)
    white = (_with_tail(_randomized_top(centred_white, n, d_keep, min(top, d_keep), seed),
                        float((var[keep] / bern[keep]).sum()), d_keep)
             if d_keep else np.zeros(0))
    return lam, white, (min(top, d), min(top, d_keep)), "randomized"


def _with_tail(top, trace: float, size: int) -> np.ndarray:
    """The leading eigenvalues ``top`` followed by ``size - len(top)`` entries sharing the rest
    of ``trace`` evenly (never above the last leading one): the sums the linear-VAE rule needs
    beyond the leading directions stay exact."""
    top = np.clip(np.sort(np.asarray(top, dtype=np.float64))[::-1], 0.0, None)
    rest = size - top.size
    if rest <= 0:
        return top[:size]
    fill = max(trace - float(top.sum()), 0.0) / rest
    if top.size:
        fill = min(fill, float(top[-1]))
    return np.concatenate([top, np.full(rest, fill)])


# ----------------------------------------------------------------------------------------------
# The spectrum rules on streamed moments
# ----------------------------------------------------------------------------------------------
def spectrum_from_moments(cov) -> np.ndarray:
    """Eigenvalues (descending, clipped at 0) of the covariance ``cov``: what
    ``analysis.spectrum(x)`` returns for the data whose covariance (normalized by n) it is.

    Examples
    --------
    >>> spectrum_from_moments(np.diag([1.0, 3.0, 2.0]))
    array([3., 2., 1.])
    """
    return np.clip(np.linalg.eigvalsh(np.asarray(cov, dtype=np.float64))[::-1], 0.0, None)


def _bernoulli_scaling(mean):
    m = np.asarray(mean, dtype=np.float64)
    d = m * (1.0 - m)
    keep = d > 0
    return d, keep


def whitened_spectrum_from_moments(mean, cov) -> np.ndarray:
    """Eigenvalues (descending) of ``D^(-1/2) S D^(-1/2)``, ``S = cov``, ``D = diag(m (1 - m))``
    for the mean image ``m``, over the locations with m (1 - m) > 0: what
    ``analysis.whitened_spectrum(x)`` returns, from the moments.

    Examples
    --------
    >>> whitened_spectrum_from_moments([0.5, 0.0], [[0.25, 0.0], [0.0, 0.0]])
    array([1.])
    """
    d, keep = _bernoulli_scaling(mean)
    s = np.asarray(cov, dtype=np.float64)[np.ix_(keep, keep)]
    r = 1.0 / np.sqrt(d[keep])
    return spectrum_from_moments(s * r[:, None] * r[None, :])


def sigma_zero_rate_from_moments(mean, cov) -> float:
    """The Bernoulli decoder's effective sigma at its zero-rate operating point,
    sigma^2 = tr S / tr(D^(-1/2) S D^(-1/2)) over the locations with m (1 - m) > 0: what
    ``analysis.bernoulli_sigma_zero_rate(x)`` returns (see there for the derivation), from the
    moments (``cov`` may also be its diagonal, the variances).  NaN when no location with
    m (1 - m) > 0 varies (the ratio is 0/0).

    Examples
    --------
    Binary pixels have S_jj = m_j (1 - m_j), so sigma^2 is the mean Bernoulli variance:

    >>> round(sigma_zero_rate_from_moments([0.5, 0.1], [[0.25, 0.0], [0.0, 0.09]]) ** 2, 12)
    0.17
    """
    d, keep = _bernoulli_scaling(mean)
    c = np.asarray(cov, dtype=np.float64)
    s = (c if c.ndim == 1 else np.diag(c))[keep]
    weighted = float((s / d[keep]).sum())
    return float(math.sqrt(s.sum() / weighted)) if weighted > 0 else math.nan


def linear_reconstruction_mse(eigenvalues, sigma: float, latent: int) -> float:
    """Per-value squared error of the optimal linear VAE's reconstructions with posterior
    samples, averaged over the data: (1/D) [sum_{i <= latent} min(lambda_i, sigma^2) +
    sum_{i > latent} lambda_i].

    At the optimum (Tipping & Bishop 1999; Lucas et al. 2019) an open direction
    (lambda_i > sigma^2) has decoder weight sqrt(lambda_i - sigma^2) and posterior N(w x_i /
    lambda_i, sigma^2 / lambda_i); its expected squared error over the data and the posterior is
    sigma^4 / lambda_i + sigma^2 (lambda_i - sigma^2) / lambda_i = sigma^2.  A closed direction
    leaves its variance lambda_i.  (The tests check this against the tight ELBO,
    ``analysis.linear_optimum_nll``.)

    Examples
    --------
    >>> linear_reconstruction_mse([4.0, 1.0, 0.25, 0.25], sigma=1.0, latent=2)  # (1 + 1 + .5) / 4
    0.625
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    s2 = float(sigma) ** 2
    return float((np.minimum(lam[:latent], s2).sum() + lam[latent:].sum()) / lam.size)


def learned_sigma(eigenvalues, latent: int) -> float:
    """The sigma a linear VAE with a learned shared sigma settles at: the fixed point of
    sigma^2 = :func:`linear_reconstruction_mse` (sigma), the ELBO's stationarity in sigma
    (sigma^2 = the per-value MSE with posterior samples; Rybkin et al. 2021).

    For eigenvalues sorted in descending order the fixed point is probabilistic PCA's
    maximum-likelihood noise (Tipping & Bishop 1999), the mean of the eigenvalues beyond
    ``latent``: sigma^2 = sum_{i > latent} lambda_i / (D - latent).  (The mean of the discarded
    eigenvalues is at most lambda_latent, so every retained direction is open, each contributes
    sigma^2 to the error and the discarded ones their lambda_i: D sigma^2 = latent sigma^2 +
    sum_{i > latent} lambda_i.)  0 when ``latent >= D``.

    Examples
    --------
    >>> learned_sigma([4.0, 1.0, 0.25, 0.25], latent=2) ** 2
    0.25
    >>> linear_reconstruction_mse([4.0, 1.0, 0.25, 0.25], 0.5, latent=2)
    0.25
    """
    lam = np.sort(np.asarray(eigenvalues, dtype=np.float64))[::-1]
    if latent >= lam.size:
        return 0.0
    return float(math.sqrt(lam[latent:].sum() / (lam.size - latent)))
