"""Tests of lossanalysis.nn: layers, optimizers, models (gradient checks, closed forms)."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from lossanalysis.losses import LOSSES, Loss, get_loss, sigmoid
from lossanalysis.nn import (AE, MLP, SGD, VAE, Adam, BiasOnly, Dense, Gaussian, check_gradients,
                             make_activation, make_likelihood)
from lossanalysis.nn.kernels import kernel_for
from lossanalysis.nn.mlp import flat_view, pack

TOL = 1e-6  # maximum relative error of the gradient checks


def _data(n=3, d=8, seed=0):
    """Images with exact zeros and ones and grey values, like MNIST."""
    x = np.random.default_rng(seed).random((n, d))
    x[x < 0.3] = 0
    x[x > 0.85] = 1
    return x


def _min_preactivation(model, x):
    """Smallest |pre-activation| of any kinked unit for the AE's forward pass on x."""
    m, h = np.inf, np.asarray(x, dtype=np.float64)
    for mlp in (model.encoder, model.decoder):
        for dense, act in zip(mlp.dense, mlp.acts):
            pre = dense.forward(h)
            if act.name in ("relu", "leaky_relu"):
                m = min(m, float(np.abs(pre).min()))
            h = act.forward(pre.copy())
    return m


# ---------------------------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 5), n_in=st.integers(1, 6), n_out=st.integers(1, 6),
       act=st.sampled_from(["relu", "leaky_relu", "tanh", "identity"]), seed=st.integers(0, 2**16))
def test_dense_and_activation_backward_match_finite_differences(n, n_in, n_out, act, seed):
    rng = np.random.default_rng(seed)
    dense = Dense(n_in, n_out, rng=rng, init="glorot", dtype=np.float64)
    dense.params["b"][...] = rng.uniform(-1, 1, n_out)
    layer = make_activation(act)
    x = rng.standard_normal((n, n_in))
    w = rng.standard_normal((n, n_out))           # L = sum(w * act(dense(x)))

    def loss():
        return float(np.sum(w * layer.forward(dense.forward(x))))

    pre = dense.forward(x)
    # central differences with h = 1e-6 straddle the kink only within h of it: such draws are
    # not this test's (hypothesis draws others)
    assume(act not in ("relu", "leaky_relu") or np.abs(pre).min() >= 1e-4)
    loss()
    dx = dense.backward(layer.backward(w.copy()))
    h = 1e-6
    for arr, grad in ((dense.params["W"], dense.grads["W"]), (dense.params["b"], dense.grads["b"]),
                      (x, dx)):
        flat, g = arr.reshape(-1), grad.reshape(-1)
        for i in range(flat.size):
            keep = flat[i]
            flat[i] = keep + h
            up = loss()
            flat[i] = keep - h
            down = loss()
            flat[i] = keep
            assert abs((up - down) / (2 * h) - g[i]) <= 1e-6 * max(1.0, abs(g[i]))


def test_dense_out_buffer_and_first_layer_skip():
    rng = np.random.default_rng(0)
    d = Dense(5, 3, rng=rng, dtype=np.float32)
    x = rng.standard_normal((4, 5), dtype=np.float32)
    buf = np.empty((4, 3), np.float32)
    y = d.forward(x, out=buf)
    assert y is buf and y.dtype == np.float32
    np.testing.assert_allclose(y, x @ d.params["W"] + d.params["b"], rtol=1e-6)
    assert d.backward(np.ones((4, 3), np.float32), need_dx=False) is None
    np.testing.assert_allclose(d.grads["b"], [4, 4, 4])


def test_initializations_are_reproducible_and_scaled():
    a = Dense(400, 300, rng=np.random.default_rng(1), init="he").params["W"]
    b = Dense(400, 300, rng=np.random.default_rng(1), init="he").params["W"]
    assert a.dtype == np.float32 and np.array_equal(a, b)
    assert abs(a.var() / (2 / 400) - 1) < 0.02
    g = Dense(400, 300, rng=np.random.default_rng(2), init="glorot").params["W"]
    bound = math.sqrt(6 / 700)
    assert np.abs(g).max() <= bound and abs(g.var() / (bound**2 / 3) - 1) < 0.02
    assert np.all(Dense(4, 3, rng=np.random.default_rng(0)).params["b"] == 0)
    with pytest.raises(ValueError):
        Dense(4, 3, rng=np.random.default_rng(0), init="nope")
    with pytest.raises(ValueError):
        make_activation("sigmoid")


def test_pack_makes_flat_views_shared_with_layers():
    rng = np.random.default_rng(0)
    mlp = MLP((5, 4, 3), rng=rng, dtype=np.float32)
    before = {k: v.copy() for _, d in mlp.owners("m") for k, v in d.params.items()}
    params, grads = pack(mlp.owners("m"), np.float32)
    assert list(params) == ["m.0.W", "m.0.b", "m.1.W", "m.1.b"] and list(grads) == list(params)
    np.testing.assert_array_equal(params["m.1.b"], before["b"])
    flat = flat_view(params.values())
    assert flat is not None and flat.size == 5 * 4 + 4 + 4 * 3 + 3
    flat[:] = 7
    assert np.all(mlp.dense[0].params["W"] == 7)
    assert flat_view(grads.values()) is not None
    assert flat_view([np.zeros(3), np.zeros(3)]) is None
    assert flat_view([params["m.1.W"], params["m.0.W"]]) is None   # out of order


# ---------------------------------------------------------------------------------------------
# Optimizers
# ---------------------------------------------------------------------------------------------
def _reference_adam(theta, grads, lr, b1=0.9, b2=0.999, eps=1e-8):
    """Algorithm 1 of Kingma & Ba (2015), written plainly."""
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


@pytest.mark.parametrize("packed,block", [(True, None), (True, 7), (False, None)])
def test_adam_matches_the_textbook_algorithm(packed, block):
    rng = np.random.default_rng(0)
    shapes = {"a": (3, 4), "b": (5,)}
    start = {k: rng.standard_normal(s) for k, s in shapes.items()}
    gseq = [{k: rng.standard_normal(s) * 10.0 ** rng.integers(-6, 2) for k, s in shapes.items()}
            for _ in range(30)]
    if packed:
        owner = type("O", (), {})()
        owner.params = {k: v.copy() for k, v in start.items()}
        owner.grads = {k: np.zeros_like(v) for k, v in start.items()}
        params, grads = pack([("p", owner)], np.float64)
        params = {k.split(".", 1)[1]: v for k, v in params.items()}
        grads = {k.split(".", 1)[1]: v for k, v in grads.items()}
    else:
        params = {k: v.copy() for k, v in start.items()}
        grads = {k: np.zeros_like(v) for k, v in start.items()}
    opt = Adam(params, lr=0.01)
    if block:
        opt.block = block   # exercise the chunked update of the flat buffer
    assert (opt._flat_p is not None) == packed
    for g in gseq:
        for k in grads:
            grads[k][...] = g[k]
        opt.step(grads)
    for k in shapes:
        np.testing.assert_allclose(params[k], _reference_adam(start[k], [g[k] for g in gseq], 0.01),
                                   rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_matches_reference(nesterov):
    rng = np.random.default_rng(1)
    theta0 = rng.standard_normal(6)
    gs = [rng.standard_normal(6) for _ in range(10)]
    params = {"w": theta0.copy()}
    opt = SGD(params, lr=0.1, momentum=0.9, nesterov=nesterov)
    theta, v = theta0.copy(), np.zeros(6)
    for g in gs:
        opt.step({"w": g})
        v = 0.9 * v + g
        theta = theta - 0.1 * ((g + 0.9 * v) if nesterov else v)
    np.testing.assert_allclose(params["w"], theta, rtol=1e-13)
    plain = {"w": theta0.copy()}
    SGD(plain, lr=0.1, momentum=0.0).step({"w": gs[0]})
    np.testing.assert_allclose(plain["w"], theta0 - 0.1 * gs[0])


def test_optimizer_state_round_trip_and_float32():
    model = AE((8, 5, 3), seed=0)
    x = _data(16, 8).astype(np.float32)
    opt = Adam(model.params, lr=1e-2)
    for _ in range(3):
        opt.step(model.loss_and_grads(x)[1])
    state, params = opt.state_dict(), model.get_params()
    for _ in range(2):
        opt.step(model.loss_and_grads(x)[1])
    after = model.get_params()
    model.set_params(params)
    opt2 = Adam(model.params, lr=1e-2)
    opt2.load_state_dict(state)
    for _ in range(2):
        opt2.step(model.loss_and_grads(x)[1])
    for k in after:
        np.testing.assert_array_equal(model.params[k], after[k])
        assert model.params[k].dtype == np.float32 and model.grads[k].dtype == np.float32
    assert all(v.dtype == np.float32 for d in ("M", "V") for v in opt2.state_dict()[d].values())


# ---------------------------------------------------------------------------------------------
# Gradient checks (float64, central differences, noise fixed)
# ---------------------------------------------------------------------------------------------
AE_LOSSES = ["mse", "bce", "kl", "focal", "continuous_bernoulli", "gaussian_nll", "huber",
             "user"]


@pytest.mark.parametrize("loss", AE_LOSSES)
def test_ae_gradients(loss):
    if loss == "user":
        loss = Loss.from_expr("(p - y)**4 + y * (1 - p)**3", name="user")
    x = _data()
    if loss == "huber":   # kinked at |p - y| = delta: keep the residuals away from it
        loss = get_loss("huber", delta=2.0)
    model = AE((8, 5, 3), loss=loss, activation="tanh", dtype=np.float64, seed=1)
    errors = check_gradients(model, x)
    assert set(errors) == set(model.params)
    assert max(errors.values()) <= TOL, errors


@pytest.mark.parametrize("name", LOSSES)
def test_ae_gradients_cover_the_whole_catalogue(name):
    """Every catalogue loss, on targets inside (0, 1) where each of them is finite and smooth
    (reverse_kl and logit_mse are infinite at 0 and 1; mae and huber are kinked at p = y and
    |p - y| = delta, which interior targets drawn at random do not hit)."""
    x = 0.05 + 0.9 * np.random.default_rng(11).random((3, 8))
    model = AE((8, 5, 3), loss=name, activation="tanh", dtype=np.float64, seed=1)
    d = np.abs(sigmoid(model.logits(x)) - x)
    # clear of the kinks of mae (d = 0) and huber (d = delta): a parameter step of 2h = 6e-3
    # moves p by about 2e-3 at most here
    assert d.min() > 1e-2 and np.abs(d - get_loss("huber").params["delta"]).min() > 1e-2
    errors = check_gradients(model, x)
    assert set(errors) == set(model.params)
    assert max(errors.values()) <= TOL, (name, errors)


@pytest.mark.parametrize("act", ["relu", "leaky_relu"])
def test_ae_gradients_with_kinked_activations(act):
    x = _data()
    # A seed whose pre-activations all stay well clear of the kink at 0.
    for seed in range(50):
        model = AE((8, 5, 4, 3), loss="bce", activation=act, dtype=np.float64, seed=seed)
        r = np.random.default_rng(seed)
        model.set_params({k: r.uniform(-0.5, 0.5, v.shape) for k, v in model.params.items()
                          if k.endswith(".b")})
        if _min_preactivation(model, x) > 0.02:
            break
    errors = check_gradients(model, x, h=2e-3)
    assert max(errors.values()) <= TOL, errors


VAE_CASES = [
    ("bernoulli", {}),
    ("gaussian", {"sigma": 0.3}),
    ("gaussian", {"sigma": "shared", "init_sigma": 0.5}),
    ("gaussian", {"sigma": "per_pixel", "init_sigma": 0.5}),
    ("continuous_bernoulli", {}),
    ("beta", {"kappa": 5.0}),
    ("gaussian", {"sigma": 0.5, "decoder": "linear"}),
    ("gaussian", {"sigma": "shared", "decoder": "linear"}),
    ("gaussian", {"sigma": "per_pixel", "decoder": "linear"}),
]


@pytest.mark.parametrize("likelihood,kw", VAE_CASES, ids=lambda v: str(v))
def test_vae_gradients(likelihood, kw):
    x = _data()
    model = VAE((8, 5, 2), likelihood=likelihood, activation="tanh", dtype=np.float64, seed=2, **kw)
    if model.term.params:   # learned sigmas: move them off their initial value
        r = np.random.default_rng(3)
        model.set_params({"lik.log_sigma": r.uniform(-1, 0, model.params["lik.log_sigma"].shape)})
    eps = np.random.default_rng(4).standard_normal((x.shape[0], 2))
    errors = check_gradients(model, x, eps=eps)
    assert set(errors) == set(model.params)
    assert max(errors.values()) <= TOL, errors


def test_bias_only_gradients_and_optimum():
    x = _data(40, 6)
    model = BiasOnly(6, "bce", dtype=np.float64)
    assert max(check_gradients(model, x[:5]).values()) <= TOL
    first = model.loss_and_grads(x)[0]
    opt = Adam(model.params, lr=0.05)
    for _ in range(50):
        opt.step(model.loss_and_grads(x)[1])
    assert model.loss_and_grads(x)[0] < first
    # bce is a proper score: the best constant prediction is the per-pixel mean
    mean = x.mean(axis=0)
    model.set_params({"out.b": np.log(mean / (1 - mean))})
    np.testing.assert_allclose(model.loss_and_grads(x)[1]["out.b"], 0, atol=1e-14)
    np.testing.assert_allclose(model.reconstruct(x[:2]), np.tile(mean, (2, 1)), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# VAE closed forms
# ---------------------------------------------------------------------------------------------
def _vae(likelihood="bernoulli", **kw):
    return VAE((10, 6, 3), likelihood=likelihood, dtype=np.float64, seed=5, **kw)


def test_reparameterization_uses_the_standard_deviation():
    model, x = _vae(), _data(4, 10)
    eps = np.random.default_rng(0).standard_normal((4, 3))
    model.loss_and_grads(x, eps=eps)
    mu, logvar, e, h = model.last_latent
    np.testing.assert_array_equal(e, eps)
    np.testing.assert_allclose(h - mu, np.exp(logvar / 2) * eps, rtol=1e-12, atol=1e-15)
    m2, lv2 = model.encode(x)
    np.testing.assert_array_equal(m2, mu)
    np.testing.assert_array_equal(lv2, logvar)


def test_kl_matches_closed_form_monte_carlo_and_quadrature():
    model, x = _vae(), _data(4, 10)
    model.set_params({"enc.1.b": np.r_[0.3, -0.7, 1.1, 0.4, -1.2, 0.8]})   # nontrivial q
    mu, logvar = model.encode(x)
    kl_dims = model.kl_per_dim(x)
    sd = np.exp(logvar / 2)
    closed = np.log(1 / sd) + (sd**2 + mu**2) / 2 - 0.5
    np.testing.assert_allclose(kl_dims, closed.mean(axis=0), rtol=1e-12)
    terms = model.evaluate(x, eps=np.zeros((4, 3)), per_example=True)
    np.testing.assert_allclose(terms["kl"], closed.sum(axis=1), rtol=1e-12)
    # quadrature for every dimension of example 0, Monte Carlo for its total KL
    for j in range(3):
        q = stats.norm(mu[0, j], sd[0, j])
        val, _ = integrate.quad(lambda t: q.pdf(t) * (q.logpdf(t) - stats.norm.logpdf(t)),
                                mu[0, j] - 12 * sd[0, j], mu[0, j] + 12 * sd[0, j])
        assert abs(val - closed[0, j]) < 1e-8
    h = mu[0] + sd[0] * np.random.default_rng(1).standard_normal((200_000, 3))
    mc = (stats.norm.logpdf(h, mu[0], sd[0]) - stats.norm.logpdf(h)).sum(axis=1)
    assert abs(mc.mean() - terms["kl"][0]) < 4 * mc.std() / math.sqrt(mc.size)


def _rec(model, x, eps):
    return model.evaluate(x, eps=eps, per_example=True)["rec"]


def test_likelihood_terms_match_scipy_densities():
    x = _data(4, 10)
    eps = np.random.default_rng(2).standard_normal((4, 3))
    # Bernoulli on binary data: -log pmf
    xb = (x > 0.5).astype(float)
    m = _vae("bernoulli")
    mu, _ = m.encode(xb)
    z = m.decoder.forward(mu + np.exp(0.5 * m.encode(xb)[1]) * eps)
    ref = -stats.bernoulli.logpmf(xb, sigmoid(z)).sum(axis=1)
    np.testing.assert_allclose(_rec(m, xb, eps), ref, rtol=1e-10)
    # Gaussian, fixed sigma, sigmoid mean
    m = _vae("gaussian", sigma=0.2)
    mu, lv = m.encode(x)
    p = sigmoid(m.decoder.forward(mu + np.exp(0.5 * lv) * eps))
    np.testing.assert_allclose(_rec(m, x, eps), -stats.norm.logpdf(x, p, 0.2).sum(axis=1), rtol=1e-10)
    # Gaussian, linear decoder (identity output), per-pixel learned sigma
    m = _vae("gaussian", sigma="per_pixel", decoder="linear")
    ls = np.linspace(-1, 0.5, 10)
    m.set_params({"lik.log_sigma": ls})
    mu, lv = m.encode(x)
    mean = m.decoder.forward(mu + np.exp(0.5 * lv) * eps)
    np.testing.assert_allclose(_rec(m, x, eps), -stats.norm.logpdf(x, mean, np.exp(ls)).sum(axis=1),
                               rtol=1e-10)


@pytest.mark.parametrize("sigma", ["shared", "per_pixel"])
def test_learned_sigma_at_fixed_value_equals_catalogue_gaussian_nll(sigma):
    x = _data(4, 10)
    out = np.random.default_rng(3).standard_normal((4, 10))
    learned = Gaussian(sigma=sigma)
    learned.setup(10, np.float64)
    learned.params["log_sigma"][...] = math.log(0.3)
    fixed = Gaussian(sigma=0.3)
    v1, g1 = learned.value_and_grad(x, out, grad_scale=0.25)
    v2, g2 = fixed.value_and_grad(x, out, grad_scale=0.25)
    cat = get_loss("gaussian_nll", sigma=0.3)
    np.testing.assert_allclose(v1, v2, rtol=1e-13)
    np.testing.assert_allclose(v2, cat.value_logit(x, out).sum(axis=1), rtol=1e-15)
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(g2, 0.25 * cat.grad_logit(x, out), rtol=1e-15)


@pytest.mark.parametrize("name,kw,lo,hi", [
    ("continuous_bernoulli", {}, 0.0, 1.0),
    ("beta", {"kappa": 7.0}, 0.0, 1.0),
    ("gaussian", {"sigma": 0.7, "output": "identity"}, -np.inf, np.inf),
])
def test_likelihoods_are_normalized_densities(name, kw, lo, hi):
    """exp(-NLL) integrates to 1 over the data domain: every normalizer is included."""
    term = make_likelihood(name, **kw)
    term.setup(1, np.float64)
    for z in (-2.3, 0.0, 0.4, 3.0):
        def density(y):
            return math.exp(-term.value_and_grad(np.array([[y]]), np.array([[z]]))[0][0])
        total, _ = integrate.quad(density, lo, hi, limit=200)
        assert abs(total - 1) < 1e-7, (name, z, total)


def test_reconstruct_decode_sample_and_kl_per_dim():
    x = _data(6, 10)
    m = _vae("continuous_bernoulli")
    mu, logvar = m.encode(x)
    z = m.logits(x)
    np.testing.assert_allclose(m.reconstruct(x, kind="param"), sigmoid(z))
    from lossanalysis.losses import continuous_bernoulli_mean_logit
    np.testing.assert_allclose(m.reconstruct(x), continuous_bernoulli_mean_logit(z))
    np.testing.assert_allclose(z, m.decode(mu, kind="logit"))
    s = m.sample(5, np.random.default_rng(0))
    assert s.shape == (5, 10) and np.all((s > 0) & (s < 1))
    kl = m.kl_per_dim(x, batch_size=4)
    assert kl.shape == (3,) and np.all(kl >= 0)
    per_ex = m.evaluate(x, eps=np.zeros((6, 3)), per_example=True)["kl"]
    np.testing.assert_allclose(kl.sum(), per_ex.mean(), rtol=1e-12)
    ae = AE((10, 5, 2), loss="bce", dtype=np.float64)
    assert ae.encode(x).shape == (6, 2)
    np.testing.assert_allclose(ae.reconstruct(x), sigmoid(ae.logits(x)))
    with pytest.raises(ValueError):
        m.reconstruct(x, kind="nope")


def test_loss_and_grads_agrees_with_evaluate_and_reports_terms():
    x = _data(8, 10)
    eps = np.random.default_rng(0).standard_normal((8, 3))
    m = _vae("bernoulli")
    loss, grads = m.loss_and_grads(x, eps=eps)
    ev = m.evaluate(x, eps=eps, batch_size=3)
    assert loss == pytest.approx(ev["loss"], rel=1e-12)
    assert m.last_terms["rec"] == pytest.approx(ev["rec"], rel=1e-12)
    assert m.last_terms["kl"] == pytest.approx(ev["kl"], rel=1e-12)
    assert set(grads) == set(m.params)


def test_float32_models_stay_float32():
    x = _data(16, 10).astype(np.float32)
    for model in (AE((10, 6, 3), loss="focal"), VAE((10, 6, 3), likelihood="gaussian", sigma="per_pixel"),
                  VAE((10, 6, 3), likelihood="continuous_bernoulli")):
        opt = Adam(model.params)
        with np.errstate(all="raise"):
            loss, grads = model.loss_and_grads(x, rng=np.random.default_rng(0))
            opt.step(grads)
        assert isinstance(loss, float)
        assert all(g.dtype == np.float32 for g in grads.values())
        assert all(p.dtype == np.float32 for p in model.params.values())
        assert model.reconstruct(x).dtype == np.float32


def test_model_argument_errors():
    with pytest.raises(ValueError):
        VAE((10, 6, 3), likelihood="bernoulli", decoder="linear")
    with pytest.raises(ValueError):
        VAE((10, 3), likelihood="poisson")
    with pytest.raises(ValueError):
        AE((10, 3), loss="nope")
    with pytest.raises(ValueError):
        AE((10, 3)).loss_and_grads(np.zeros((2, 9)))
    with pytest.raises(ValueError):
        _vae().loss_and_grads(_data(4, 10), eps=np.zeros((4, 2)))
    with pytest.raises(ValueError):
        AE((10,))
    with pytest.raises(ValueError):
        Gaussian(sigma=-1.0)


# ---------------------------------------------------------------------------------------------
# The checks can fail, and the output gradient is the catalogue's
# ---------------------------------------------------------------------------------------------
class _SkewedBCE(make_likelihood("bernoulli").__class__):
    """The catalogue bce with its logit gradient off by a relative 1e-4 (a deliberate bug)."""

    def __init__(self):
        super().__init__("bce")

    def value_and_grad(self, x, out, grad_scale=None):
        values, g = super().value_and_grad(x, out, grad_scale)
        if g is not None:
            g *= 1 + 1e-4
        return values, g


def test_gradient_check_detects_a_wrong_output_gradient():
    x = _data()
    good = AE((8, 5, 3), loss="bce", activation="tanh", dtype=np.float64, seed=1)
    bad = AE((8, 5, 3), loss=_SkewedBCE(), activation="tanh", dtype=np.float64, seed=1)
    assert max(check_gradients(good, x).values()) <= TOL
    errors = check_gradients(bad, x)
    # every parameter sees the skew, about 1e-4 relative
    assert min(errors.values()) > 10 * TOL, errors


def test_gradient_check_detects_a_wrong_kl(monkeypatch):
    from lossanalysis.nn import models

    x = _data()
    eps = np.random.default_rng(4).standard_normal((x.shape[0], 2))
    model = VAE((8, 5, 2), likelihood="bernoulli", activation="tanh", dtype=np.float64, seed=2)
    assert max(check_gradients(model, x, eps=eps).values()) <= TOL
    exact = models._kl_elements
    # the reported KL is off by 0.1%, its hand-written gradient is not: the check must notice
    monkeypatch.setattr(models, "_kl_elements", lambda mu, lv, em1: exact(mu, lv, em1) * 1.001)
    errors = check_gradients(model, x, eps=eps)
    assert errors["enc.1.W"] > 10 * TOL and errors["enc.1.b"] > 10 * TOL, errors


def _spy(monkeypatch, loss):
    """Record the calls of the catalogue's logit gradient -- ``loss.grad_logit`` or the fused
    ``loss.value_and_grad_logit`` (the instance's own methods, still computing)."""
    calls = []
    for method in ("grad_logit", "value_and_grad_logit"):
        real = getattr(loss, method)

        def spy(y, z, _real=real, **kw):
            calls.append(z.shape)
            return _real(y, z, **kw)

        monkeypatch.setattr(loss, method, spy)
    return calls


def test_ae_output_gradient_is_the_catalogue_grad_logit(monkeypatch):
    loss = get_loss("focal", gamma=2.0)
    x = _data(5, 8)
    model = AE((8, 5, 3), loss=loss, dtype=np.float64, seed=3)
    calls = _spy(monkeypatch, loss)
    value, grads = model.loss_and_grads(x)
    assert calls == [(5, 8)]
    z = model.logits(x)
    # the last layer's bias gradient is the batch mean of dL/dz: the catalogue's grad_logit
    np.testing.assert_allclose(grads["dec.1.b"], loss.grad_logit(x, z).mean(axis=0), rtol=1e-12)
    assert value == pytest.approx(loss.value_logit(x, z).sum(axis=1).mean(), rel=1e-13)


@pytest.mark.parametrize("likelihood,kw,catalogue", [
    ("bernoulli", {}, "bce"),
    ("gaussian", {"sigma": 0.4}, "gaussian_nll"),
    ("gaussian", {"sigma": "per_pixel"}, "mse"),
    ("continuous_bernoulli", {}, "continuous_bernoulli"),
    ("beta", {"kappa": 4.0}, "beta_nll"),
])
def test_vae_output_gradient_is_the_catalogue_grad_logit(monkeypatch, likelihood, kw, catalogue):
    x = _data(5, 10)
    eps = np.random.default_rng(6).standard_normal((5, 3))
    model = _vae(likelihood, **kw)
    term = model.term
    loss = getattr(term, "loss", None) or (term._mse if term.learned else term._fixed)
    assert loss.name == catalogue
    calls = _spy(monkeypatch, loss)
    model.loss_and_grads(x, eps=eps)
    # bce and mse run as the in-place kernels (the catalogue's operations, compared bit for
    # bit in test_term_buffers_blocks_and_threads_do_not_change_a_bit); the others call it
    assert calls == ([] if kernel_for(loss) else [(5, 10)])
    mu, logvar, _, h = model.last_latent
    z = model.decoder.forward(np.array(h))
    y = term.prepare(x)
    expected = loss.grad_logit(y, z)
    if term.name == "gaussian" and term.learned:     # mse scaled by 1/(2 sigma^2)
        expected = expected * 0.5 * np.exp(-2 * model.params["lik.log_sigma"])
    np.testing.assert_allclose(model.grads["dec.1.b"], expected.mean(axis=0), rtol=1e-12)


@pytest.mark.parametrize("act", ["relu", "leaky_relu"])
def test_vae_gradients_with_kinked_activations(act):
    """The VAE's default ReLU units (and leaky ReLU), with every pre-activation clear of 0."""
    x = _data()
    eps = np.random.default_rng(7).standard_normal((x.shape[0], 2))
    for seed in range(100):
        model = VAE((8, 6, 2), likelihood="bernoulli", activation=act, dtype=np.float64, seed=seed)
        r = np.random.default_rng(seed)
        model.set_params({k: r.uniform(-0.5, 0.5, v.shape) for k, v in model.params.items()
                          if k.endswith(".b")})
        pre_enc = model.encoder.dense[0].forward(x)
        mu, logvar = model.encode(x)
        pre_dec = model.decoder.dense[0].forward(mu + np.exp(logvar / 2) * eps)
        if min(np.abs(pre_enc).min(), np.abs(pre_dec).min()) > 0.02:
            break
    else:
        pytest.fail("no seed kept the pre-activations away from the kink")
    errors = check_gradients(model, x, eps=eps, h=2e-3)
    assert set(errors) == set(model.params)
    assert max(errors.values()) <= TOL, errors


@pytest.mark.parametrize("sigma", ["shared", "per_pixel"])
def test_ae_with_a_learned_sigma_term_checks_every_parameter(sigma):
    x = _data()
    model = AE((8, 5, 3), loss=Gaussian(sigma=sigma), activation="tanh", dtype=np.float64, seed=4)
    model.set_params({"lik.log_sigma": np.random.default_rng(8).uniform(-1, 0, model.params["lik.log_sigma"].shape)})
    errors = check_gradients(model, x)
    assert "lik.log_sigma" in errors and set(errors) == set(model.params)
    assert max(errors.values()) <= TOL, errors


def test_check_data_rejects_bad_inputs_plainly():
    ae = AE((10, 3), loss="bce")
    good = ae.check_data(_data(4, 10))
    assert good.dtype == np.float32 and good.flags.c_contiguous
    for bad, match in [(np.zeros((4, 9)), r"shape \(examples, 10\)"),
                       (np.zeros(10), "shape"),
                       (np.full((2, 10), np.nan), "NaN"),
                       (_data(4, 10) * 255, r"\[0, 1\]"),
                       (-_data(4, 10), r"\[0, 1\]"),
                       (np.array([["a"] * 10]), "numbers")]:
        with pytest.raises(ValueError, match=match):
            ae.check_data(bad)
    # the linear decoder's Gaussian mean is unconstrained: any finite data are fine
    lin = VAE((10, 3), likelihood="gaussian", decoder="linear")
    assert lin.check_data(_data(4, 10) * 5 - 2).shape == (4, 10)


def test_init_option_applies_to_every_layer():
    default = VAE((784, 400, 20), seed=0)
    # default: He before the ReLU layers, Glorot (uniform) for the linear head and output
    assert abs(default.params["enc.0.W"].var() * 784 / 2 - 1) < 0.02
    bound = math.sqrt(6 / (400 + 40))
    assert np.abs(default.params["enc.1.W"]).max() <= bound
    torch_like = VAE((784, 400, 20), init="uniform_fan_in", seed=0)
    for k, v in torch_like.params.items():
        fan_in = v.shape[0] if k.endswith(".W") else None
        if fan_in:
            assert np.abs(v).max() <= 1 / math.sqrt(fan_in)
            assert abs(v.var() * 3 * fan_in - 1) < 0.05
    ae = AE((20, 8, 3), init="glorot", seed=0)
    for k, v in ae.params.items():
        if k.endswith(".W"):
            assert np.abs(v).max() <= math.sqrt(6 / sum(v.shape))


# ---------------------------------------------------------------------------------------------
# Speed work that must not change a bit: gradients owned by the caller, buffers,
# threads, Adam's seven passes
# ---------------------------------------------------------------------------------------------
def test_loss_and_grads_returns_arrays_the_caller_owns():
    model = AE((8, 5, 3), loss="bce", seed=0)
    x1, x2 = _data(4, 8, seed=1).astype(np.float32), _data(4, 8, seed=2).astype(np.float32)
    _, g1 = model.loss_and_grads(x1)
    kept = {k: v.copy() for k, v in g1.items()}
    _, g2 = model.loss_and_grads(x2)
    for k in kept:
        np.testing.assert_array_equal(g1[k], kept[k])      # not overwritten by the next call
        assert not np.shares_memory(g1[k], model.grads[k])
    assert any(not np.array_equal(g1[k], g2[k]) for k in g1)
    # reuse=True hands back the model's own buffers (the training loop's choice)
    _, g3 = model.loss_and_grads(x1, reuse=True)
    assert g3 is model.grads
    for k in kept:
        np.testing.assert_array_equal(g3[k], kept[k])      # same point, same numbers
    vae = VAE((8, 5, 2), seed=0)
    eps = np.zeros((4, 2))
    _, h1 = vae.loss_and_grads(x1, eps=eps)
    copy = {k: v.copy() for k, v in h1.items()}
    vae.loss_and_grads(x2, eps=eps)
    assert all(np.array_equal(h1[k], copy[k]) for k in copy)


@pytest.mark.parametrize("term_args", [("bce",), ("mse",), ("focal",)])
def test_term_buffers_blocks_and_threads_do_not_change_a_bit(term_args):
    from lossanalysis.nn import Catalogue, parallel

    rng = np.random.default_rng(3)
    n, d = 150, 500                       # several row blocks, enough to split over threads
    y = _data(n, d, seed=4).astype(np.float32)
    z = (rng.standard_normal((n, d)) * 5).astype(np.float32)
    term = Catalogue(*term_args)
    loss = term.loss
    v_ref = loss.value_logit(y, z).sum(axis=1)
    g_ref = loss.grad_logit(y, z)
    g_ref *= 0.25
    results = []
    try:
        for threads in (1, 2):
            parallel.set_threads(threads)
            for reuse in (False, True):
                v, g = term.value_and_grad(y, z, grad_scale=0.25, reuse=reuse)
                results.append((v.copy(), g.copy()))
                np.testing.assert_array_equal(v, v_ref)
                np.testing.assert_array_equal(g, g_ref)
    finally:
        parallel.set_threads(None)
    # with reuse the buffers are the term's own: the next call overwrites them
    v1, _ = term.value_and_grad(y, z, grad_scale=0.25, reuse=True)
    v2, _ = term.value_and_grad(y[::-1].copy(), z, grad_scale=0.25, reuse=True)
    assert v1 is v2
    v3, _ = term.value_and_grad(y, z, grad_scale=0.25)
    assert v3 is not v2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_loss_kernels_give_the_catalogue_bits_at_the_extremes(dtype):
    """The in-place bce and mse kernels against the catalogue, bit for bit, at logits of
    +-1000, +-0 and in between, targets 0, 1 and grey: value sums, elementwise values (the
    learned-sigma Gaussian's use), value alone and the scaled gradient."""
    from lossanalysis.nn import Catalogue

    rng = np.random.default_rng(11)
    z = np.concatenate([rng.standard_normal((20, 64)) * 30, np.full((2, 64), 1000.0),
                        np.full((2, 64), -1000.0), np.zeros((1, 64)), np.full((1, 64), -0.0),
                        rng.standard_normal((4, 64)) * 1e-3]).astype(dtype)
    y = _data(z.shape[0], 64, seed=12).astype(dtype)
    y[:, :8] = 1.0
    y[:, 8:16] = 0.0
    for name in ("bce", "mse"):
        term = Catalogue(name)
        assert term._eval._kernel is not None
        v_ref, g_ref = term.loss.value_and_grad_logit(y, z)
        assert np.isfinite(v_ref).all() and np.isfinite(g_ref).all()
        v, g = term.value_and_grad(y, z, grad_scale=0.375)
        np.testing.assert_array_equal(v, v_ref.sum(axis=1))
        np.testing.assert_array_equal(g, g_ref * dtype(0.375))
        assert v.dtype == g.dtype == dtype
        np.testing.assert_array_equal(term.value_and_grad(y, z)[0], v_ref.sum(axis=1))
        elementwise, g1 = term._eval(y, z, 1, summed=False)
        np.testing.assert_array_equal(elementwise, v_ref)
        np.testing.assert_array_equal(g1, g_ref)


@pytest.mark.parametrize("threads,renorm", [(1, 2.0 ** -10), (2, 2.0 ** -10), (1, 0.5)])
def test_adam_seven_passes_match_the_textbook_with_threads_and_renormalization(threads, renorm):
    from lossanalysis.nn import parallel

    rng = np.random.default_rng(5)
    start = rng.standard_normal(1000)
    gseq = [rng.standard_normal(1000) * 10.0 ** rng.integers(-6, 2) for _ in range(40)]
    owner = type("O", (), {})()
    owner.params, owner.grads = {"w": start.copy()}, {"w": np.zeros(1000)}
    params, grads = pack([("p", owner)], np.float64)
    opt = Adam(params, lr=0.01, betas=(0.8, 0.99))
    opt.block, opt.renorm = 16, renorm        # small blocks: 4 * 16 < 1000 elements, so split
    try:
        parallel.set_threads(threads)
        for g in gseq:
            grads["p.w"][...] = g
            opt.step(grads)
    finally:
        parallel.set_threads(None)
    np.testing.assert_allclose(params["p.w"], _reference_adam(start, gseq, 0.01, 0.8, 0.99),
                               rtol=1e-12, atol=1e-14)
    # the stored moments times their scales are the textbook's m / (1 - b1), v / (1 - b2)
    m = v = 0.0
    for g in gseq:
        m, v = 0.8 * m + 0.2 * g, 0.99 * v + 0.01 * g * g
    state = opt.state_dict()
    np.testing.assert_allclose(state["M"]["p.w"] * state["scale"]["M"], m / 0.2, rtol=1e-12)
    np.testing.assert_allclose(state["V"]["p.w"] * state["scale"]["V"], v / 0.01, rtol=1e-12)


def test_adam_blocks_threads_and_the_per_array_path_give_the_same_bits(monkeypatch):
    """The block-by-block update of the flat buffer does per element exactly what the update
    array by array does (block boundaries elsewhere; every block a multiple of 64 elements, so
    that a BLAS vector loop never ends inside one), whatever the block size and thread count,
    renormalizations included."""
    from lossanalysis.nn import parallel

    rng = np.random.default_rng(9)
    shapes = {"W": (37, 29), "b": (29,)}
    start = {k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}
    gseq = [{k: (rng.standard_normal(s) * 10.0 ** rng.integers(-6, 2)).astype(np.float32)
             for k, s in shapes.items()} for _ in range(25)]

    def run(flat, block=None, threads=1):
        owner = type("O", (), {})()
        owner.params = {k: v.copy() for k, v in start.items()}
        owner.grads = {k: np.zeros_like(v) for k, v in start.items()}
        params, grads = pack([("p", owner)], np.float32)
        if not flat:              # separate gradient arrays: no flat view, array by array
            grads = {k: np.zeros_like(v) for k, v in params.items()}
        opt = Adam(params, lr=0.01, betas=(0.8, 0.99))
        opt.renorm = 0.5          # fold the scales into the moments every few steps
        if block:
            opt.block = block
        try:
            parallel.set_threads(threads)
            for g in gseq:
                for k in shapes:
                    grads[f"p.{k}"][...] = g[k]
                opt.step(grads)
        finally:
            parallel.set_threads(None)
        assert (opt._blocks[1][0] is opt._flat_p) == flat      # one flat group, or per array
        return np.concatenate([v.ravel() for v in params.values()])

    reference = run(flat=False)
    for block, threads in ((None, 1), (64, 1), (100, 2), (256, 2)):
        np.testing.assert_array_equal(run(True, block, threads), reference)
    # and what the whole-array passes (taken when the BLAS offers no raw axpy) compute
    real = parallel.blas_axpy

    def checked_only(dtype):
        fn = real(dtype)
        return None if fn is None else (lambda x, y, a: fn(x, y, a))

    monkeypatch.setattr(parallel, "blas_axpy", checked_only)
    owner = type("O", (), {})()
    owner.params = {k: v.copy() for k, v in start.items()}
    owner.grads = {k: np.zeros_like(v) for k, v in start.items()}
    params, grads = pack([("p", owner)], np.float32)
    opt = Adam(params, lr=0.01, betas=(0.8, 0.99))
    opt.renorm = 0.5
    for g in gseq:
        for k in shapes:
            grads[f"p.{k}"][...] = g[k]
        opt.step(grads)
    assert opt._blocks is None
    np.testing.assert_array_equal(np.concatenate([v.ravel() for v in params.values()]), reference)


def test_adam_reads_a_state_without_scales():
    """A state written before the scales existed (moments at scale 1) continues correctly."""
    rng = np.random.default_rng(6)
    start = rng.standard_normal(7)
    gs = [rng.standard_normal(7) for _ in range(6)]
    a = {"w": start.copy()}
    opt = Adam(a, lr=0.05)
    for g in gs[:3]:
        opt.step({"w": g})
    state = opt.state_dict()
    old = {"t": state["t"], "M": {"w": state["M"]["w"] * state["scale"]["M"]},
           "V": {"w": state["V"]["w"] * state["scale"]["V"]}}
    b = {"w": a["w"].copy()}
    opt_b = Adam(b, lr=0.05)
    opt_b.load_state_dict(old)
    assert opt_b.scale == {"M": 1.0, "V": 1.0}
    for g in gs[3:]:
        opt.step({"w": g})
        opt_b.step({"w": g})
    np.testing.assert_allclose(b["w"], a["w"], rtol=1e-13)
    np.testing.assert_allclose(a["w"], _reference_adam(start, gs, 0.05), rtol=1e-12)


def test_adam_updates_arrays_that_are_not_contiguous():
    base = np.zeros((4, 6))
    w = base[:, ::2]                      # a strided view: updated in place through NumPy
    opt = Adam({"w": w}, lr=0.1)
    opt.step({"w": np.ones((4, 3))})
    np.testing.assert_allclose(base[:, ::2], -0.1, rtol=1e-7)
    assert np.all(base[:, 1::2] == 0)


# ---------------------------------------------------------------------------------------------
# Threads
# ---------------------------------------------------------------------------------------------
def test_blas_threads_reads_the_library_and_follows_the_environment():
    import json
    import os
    import subprocess
    import sys

    from lossanalysis.nn import blas_threads

    info = blas_threads()
    assert info["source"] == "openblas_get_num_threads" and info["threads"] >= 1
    code = ("import json; from lossanalysis.nn import blas_threads, parallel; "
            "print(json.dumps([blas_threads()['threads'], parallel.threads()]))")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout
    assert json.loads(out) == [1, 1]


def test_split_covers_the_range_in_parts_and_passes_errors_on():
    from lossanalysis.nn import parallel

    seen = []
    try:
        parallel.set_threads(2)
        parallel.split(lambda lo, hi, part: seen.append((lo, hi, part)), 100, min_size=10,
                       align=16)
        assert sorted(seen) == [(0, 64, 0), (64, 100, 1)]

        def boom(lo, hi, part):
            if part == 1:
                raise KeyError("worker failed")

        with pytest.raises(KeyError, match="worker failed"):
            parallel.split(boom, 100, min_size=10)
        seen.clear()
        parallel.split(lambda lo, hi, part: seen.append((lo, hi)), 5, min_size=10)
        assert seen == [(0, 5)]
    finally:
        parallel.set_threads(None)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="n must be a positive integer"):
            parallel.set_threads(bad)


# ---------------------------------------------------------------------------------------------
# Configurations
# ---------------------------------------------------------------------------------------------
def test_model_configuration_rebuilds_every_kind_of_model():
    from lossanalysis.nn import model_from_config

    models = [AE((8, 5, 3), loss="focal", loss_params={"gamma": 2.0}, activation="tanh",
                 init="glorot", seed=1),
              VAE((8, 5, 2), likelihood="beta", kappa=4.0, clip=0.01, seed=1),
              VAE((8, 2), likelihood="gaussian", sigma="per_pixel", decoder="linear", seed=1),
              BiasOnly(8, loss="mse"),
              AE((8, 4), loss="mse", dtype=np.float64)]
    for m in models:
        twin = model_from_config(m.config())
        assert twin.config() == m.config() and twin.describe() == m.describe()
        assert {k: v.shape for k, v in twin.params.items()} == \
            {k: v.shape for k, v in m.params.items()}
        assert twin.dtype == m.dtype
    assert models[0].unit == "nats" and models[1].unit == "nats"
    assert "AE 8-5-3, focal" in models[0].architecture()
    user = AE((8, 4), loss=Loss.from_expr("(p - y)**4", name="quartic"))
    assert user.unit == "loss"
    with pytest.raises(ValueError, match="cannot be rebuilt from a file"):
        model_from_config(user.config())
    with pytest.raises(ValueError, match="not a model configuration"):
        model_from_config({"class": "Transformer"})


@pytest.mark.parametrize("make,match", [
    (lambda: AE(3), r"^layer_sizes must be a sequence of positive integers"),
    (lambda: AE([4, float("inf")]), r"^layer_sizes must be a sequence of positive integers"),
    (lambda: AE([4, 2.5]), r"^layer_sizes must be a sequence of positive integers"),
    (lambda: VAE("784,20"), r"^layer_sizes must be a sequence of positive integers"),
    (lambda: AE([4]), r"^layer_sizes needs at least 2 sizes"),
    (lambda: Adam({"w": np.zeros(3)}, lr="0.1"), r"^lr must be a positive finite number"),
    (lambda: Adam({"w": np.zeros(3)}, lr=float("nan")), r"^lr must be a positive finite number"),
    (lambda: Adam({"w": np.zeros(3)}, eps=0.0), r"^eps must be a positive finite number"),
    (lambda: SGD({"w": np.zeros(3)}, lr=float("inf")), r"^lr must be a positive finite number"),
    (lambda: __import__("lossanalysis.nn", fromlist=["x"]).make_optimizer(3, {}, 0.1),
     r"^optimizer name must be 'adam' or 'sgd', got 3"),
    (lambda: VAE([4, 3, 2], likelihood="gaussian", sigma=None),
     r"^sigma must be a positive number, 'shared' or 'per_pixel', got None"),
    (lambda: VAE([4, 3, 2], likelihood="gaussian", sigma=-1.0),
     r"^sigma must be a positive finite number"),
])
def test_constructors_refuse_bad_arguments_in_one_line_naming_them(make, match):
    with pytest.raises((ValueError, TypeError), match=match) as err:
        make()
    assert "\n" not in str(err.value)
