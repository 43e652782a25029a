"""Small NumPy neural networks with hand-written backward passes, for testing the loss analysis.

The autoencoders train with the very loss definitions of :mod:`lossanalysis.losses`: the output
gradient is the catalogue's ``grad_logit`` and the reported loss its ``value_logit`` (both from
``value_and_grad_logit``, which shares their work; for ``bce`` and ``mse`` the same operations
run in place, :mod:`.kernels`, giving the same bits).

Typical use::

    from lossanalysis.nn import AE, VAE, BiasOnly, format_summary, load_model, summarize, train

    ae = AE((784, 512, 128, 32), loss="focal", loss_params={"gamma": 1}, seed=0)
    vae = VAE((784, 400, 20), likelihood="gaussian", sigma="per_pixel", seed=0)
    history = train(vae, x_train, x_test, epochs=10, batch_size=128, lr=1e-3, seed=0,
                    out_dir="runs/vae", resume=True)
    images = vae.reconstruct(x_test)          # decoder at the posterior mean (mean image)
    logits = vae.logits(x_test)               # decoder output z, p = sigmoid(z)
    kl = vae.kl_per_dim(x_test)               # nats per latent dimension

    print(format_summary(summarize(vae, x_test, history)))   # test loss, per-pixel MSE, time
    model = load_model("runs/vae/checkpoint.npz")   # rebuilt from the checkpoint alone

Threads: the matrix products use the BLAS library's threads (``OPENBLAS_NUM_THREADS``, set
before NumPy is imported); ``set_threads(n)`` also splits the large elementwise passes (Adam,
the output loss) over ``n`` Python threads -- off by default (it did not pay on the 2-core
machine measured, see :mod:`.parallel`), and it never changes a result.

Modules: :mod:`.layers` (dense layers, activations), :mod:`.mlp` (layer chains, flat parameter
storage), :mod:`.likelihoods` (reconstruction terms), :mod:`.kernels` (bce and mse in place),
:mod:`.models` (AE, VAE, BiasOnly),
:mod:`.optim` (SGD, Adam), :mod:`.training` (the training loop, checkpoints, summaries),
:mod:`.parallel` (thread counts, elementwise work over threads), :mod:`.profile` (where a
step's time goes), :mod:`.figures` (reconstruction grids), :mod:`.compare` (one network, several
losses), :mod:`.gradcheck`.
"""

from .gradcheck import check_gradients, relative_error
from .layers import Dense, Identity, LeakyReLU, ReLU, Tanh, make_activation
from .likelihoods import LIKELIHOODS, Catalogue, Gaussian, Term, make_likelihood
from .mlp import MLP
from .models import AE, VAE, DEFAULT_LAYERS, BiasOnly, default_layers, model_from_config
from .optim import SGD, Adam, Optimizer, make_optimizer
from .parallel import blas_threads, set_threads
from .training import (TrainingDiverged, format_summary, load_checkpoint, load_model, summarize,
                       train)

__all__ = [
    "AE", "VAE", "BiasOnly", "train", "TrainingDiverged", "load_checkpoint", "load_model",
    "model_from_config", "default_layers", "DEFAULT_LAYERS", "summarize", "format_summary", "blas_threads", "set_threads",
    "Adam", "SGD", "Optimizer", "make_optimizer",
    "Dense", "ReLU", "LeakyReLU", "Tanh", "Identity", "make_activation", "MLP",
    "Term", "Catalogue", "Gaussian", "make_likelihood", "LIKELIHOODS",
    "check_gradients", "relative_error",
]
