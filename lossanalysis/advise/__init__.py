"""``python -m lossanalysis advise DATA``: which reconstruction loss suits a set of images.

The advice is computed from the images' statistics with :mod:`lossanalysis.analysis` and backed
by the measurements of the committed experiment reports; nothing in it is written per dataset.

What it reports
---------------
* the intensity profile: values exactly 0 or 1, near-binary (within 0.1 of 0 or 1), mid-grey
  (strictly between 0.2 and 0.8), strictly inside (0, 1), and their histogram;
* what each candidate likelihood assumes and how far the data is from it: the Bernoulli's
  missing normalizer (ln C of the continuous Bernoulli at the data: what BCE drops), the
  continuous Bernoulli's lack of a maximum at exact 0s and 1s, the Beta's need for values
  strictly inside (0, 1), the Gaussian's probability outside [0, 1];
* the likelihood scale: the Bernoulli decoder's effective sigma at its zero-rate operating
  point and the linear-VAE rule's active dimensions, code rate and reconstruction error for
  fixed sigmas, for a learned sigma and for the Bernoulli (whitened spectrum);
* the predictions the experiments tested (E2, E3, E5, E6), evaluated on these images, each
  with the measurements that back it;
* a recommendation per goal, by these rules:

  - **sharp reconstructions** (VAE): the likelihood whose linear-rule code rate is larger --
    the Gaussian at its learned sigma (the fixed point sigma^2 = per-value MSE of the rule's
    own reconstruction) on the covariance spectrum, or the Bernoulli on the whitened spectrum
    at sigma = 1.  More information in the code means sharper images (E5's rate and blur
    orderings).
  - **calibrated intensities**: sigmoid + BCE (canonical link: calibrated in the large at
    stationarity, E3) whenever some pixel location's mean lies within
    :data:`~lossanalysis.advise.core.CALIBRATION_EDGE` = 0.05 of 0 or 1, where sigmoid + MSE's
    weight p(1 - p) lets the mean drift; otherwise either canonical pair (sigmoid + BCE or an
    identity output with MSE).
  - **a meaningful ELBO in nats**: binary data -> Bernoulli (BCE is then the exact NLL); no
    value exactly 0 or 1 -> continuous Bernoulli (normalized on [0, 1], a maximum at every
    value); otherwise a Gaussian with learned sigma (a bounded density), or dequantize first.
  - **fast early training**: sigmoid + BCE when, at the mean image m, sigmoid + MSE's logit
    gradient is on average more than :data:`~lossanalysis.advise.core.SATURATION_RULE` = 4
    times smaller than BCE's -- per location the slowdown 1/(2 m (1 - m)), weighted by BCE's
    gradient mass sum_i |x_i - m| there (what there is to learn) -- i.e. twice the uniform
    factor 2 at p = 1/2, which a learning rate absorbs; otherwise either (E2: under Adam the
    difference mostly vanishes).

Modules: :mod:`.stats` (the streamed scan and the spectrum rules on moments), :mod:`.reports`
(reading the reports by prediction id), :mod:`.core` (:func:`advise`), :mod:`.render`
(Markdown and the figure), :mod:`.cli` (the command line).
"""
from .core import LATENT, SIGMAS, Advice, advise
from .reports import find_reports, load_reports
from .stats import DataError, scan, select_images

__all__ = ["advise", "Advice", "DataError", "scan", "select_images", "find_reports",
           "load_reports", "LATENT", "SIGMAS"]
