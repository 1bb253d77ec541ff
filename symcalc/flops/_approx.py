"""The well-known approximations, and throughput: MFU, HFU, wall-clock time.

The approximations are expressions, so the exact count minus one of them shows symbolically
what it leaves out (see the FLOPs guide, docs/guides/flops.md).
"""

from __future__ import annotations

from typing import Any, Optional

from sympy import Expr

from .. import symbols as S
from ..display import quantity
from ..inputs import as_choice, as_model, as_positive, as_size
from ..model import Model
from ..params import params
from ._count import training_flops

__all__ = ["six_n", "palm_flops_per_token", "narayanan_flops", "mfu", "hfu", "training_time"]


def _exact(name: str, value: Any) -> Expr:
    """A positive exact number or expression, through the one door (a float is its decimal text)."""
    return as_positive(name, value)


def six_n(model: Model) -> Expr:
    """Training FLOPs per token by the 6N rule, N the active parameters (Kaplan et al. 2020).

    .. math:: 6N

    >>> from symcalc import Model
    >>> six_n(Model(n_layers=2, d_model=4, n_heads=1, n_kv_heads=1, d_ff=16, vocab=10))
    3024

    References
    ==========

    Kaplan et al. 2020, "Scaling Laws for Neural Language Models", §2.1 (C ≈ 6N per token).
    """
    return 6 * params(as_model("model", model), active=True).total


def palm_flops_per_token(model: Model, *, seq_len: Any = S.seq_len) -> Expr:
    """Training FLOPs per token as PaLM counts them for MFU: 6N + 12·L·H·Q·T.

    .. math:: 6N + 12 L a d_h s

    with H = a heads of Q = d_h dimensions and T = s tokens per sequence (full attention square).

    >>> from symcalc import Model
    >>> palm_flops_per_token(Model(n_kv_heads=1)) - six_n(Model(n_kv_heads=1))
    12*d_model*n_layers*seq_len

    References
    ==========

    Chowdhery et al. 2022, "PaLM: Scaling Language Modeling with Pathways", appendix B.
    """
    s = as_size("seq_len", seq_len)
    return six_n(model) + 12 * model.n_layers * model.q_size * s


def narayanan_flops(model: Model, *, batch: Any = S.global_batch, seq_len: Any = S.seq_len) -> Expr:
    """FLOPs of one training iteration with full recomputation, Narayanan et al. 2021 eq. 3.

    .. math:: 96 B s L h^2 \\left(1 + \\frac{s}{6h} + \\frac{V}{16 L h}\\right)

    It assumes multi-head attention and a plain MLP of 4h; for such a model it equals
    ``training_flops(model, batch=B, recompute="full").total``.

    >>> from symcalc import Model
    >>> narayanan_flops(Model(n_layers=1, d_model=6, vocab=16), batch=1, seq_len=6)
    27648

    References
    ==========

    Narayanan et al. 2021, "Efficient Large-Scale Language Model Training on GPU Clusters Using
    Megatron-LM", §5.1, eq. 3.
    """
    B, s = _exact("batch", batch), as_size("seq_len", seq_len)
    model = as_model("model", model)
    L, h, V = model.n_layers, model.d_model, model.padded_vocab
    return 96 * B * s * L * h**2 * (1 + s / (6 * h) + V / (16 * L * h))


def _per_token(model: Model, seq_len: Any, causal: bool, recompute: str) -> Expr:
    return training_flops(model, seq_len=seq_len, tokens=1, causal=causal, recompute=recompute).total


def mfu(model: Model, *, tokens_per_second: Any = S.tokens_per_second, peak_flops: Any = S.peak_flops,
        n_devices: Any = 1, seq_len: Any = S.seq_len, causal: Optional[bool] = None) -> Expr:
    """Model FLOPs utilisation: model FLOPs (forward + backward) per second over the peak.

    .. math:: \\mathrm{MFU} = \\frac{\\tau \\, F_{\\mathrm{token}}}{n \\, F_{\\mathrm{peak}}}

    >>> from symcalc import Model
    >>> m = Model(n_layers=2, d_model=64, n_heads=4, n_kv_heads=4, d_ff=256, vocab=100)
    >>> mfu(m, tokens_per_second=10**6, peak_flops=10**12, seq_len=16)     # a number: readable, exact underneath
    65.3 %; exact 408/625
    >>> mfu(m, peak_flops=10**12, seq_len=16)                              # symbols remain: the expression
    51*tokens_per_second/78125000

    Parameters
    ==========

    tokens_per_second : measured training throughput of all devices together [tokens/s]
    peak_flops : peak FLOP/s of one device [FLOP/s]
    n_devices : devices

    References
    ==========

    Chowdhery et al. 2022, "PaLM", appendix B.
    """
    return hfu(model, recompute="none", tokens_per_second=tokens_per_second, peak_flops=peak_flops,
               n_devices=n_devices, seq_len=seq_len, causal=causal)


def hfu(model: Model, *, recompute: str = "full", tokens_per_second: Any = S.tokens_per_second,
        peak_flops: Any = S.peak_flops, n_devices: Any = 1, seq_len: Any = S.seq_len,
        causal: Optional[bool] = None) -> Expr:
    """Hardware FLOPs utilisation: like :func:`mfu`, recomputation included.

    >>> from symcalc import Model
    >>> m = Model(n_layers=2, d_model=64, n_heads=4, n_kv_heads=4, d_ff=256, vocab=100)
    >>> hfu(m, tokens_per_second=10**6, peak_flops=10**12, seq_len=16).exact
    536/625

    References
    ==========

    Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models", §6.
    """
    as_choice("recompute", recompute, ("none", "selective", "full"))
    tau, peak, n = (_exact(k, v) for k, v in (("tokens_per_second", tokens_per_second),
                                              ("peak_flops", peak_flops), ("n_devices", n_devices)))
    n = as_size("n_devices", n)
    return quantity(tau * _per_token(model, seq_len, causal, recompute) / (n * peak), "%")


def training_time(model: Model, *, tokens: Any = S.tokens, n_devices: Any = S.n_devices,
                  peak_flops: Any = S.peak_flops, mfu: Any = S.mfu, seq_len: Any = S.seq_len,
                  causal: Optional[bool] = None) -> Expr:
    """Seconds to train on ``tokens`` tokens with ``n_devices`` devices at a given MFU.

    .. math:: t = \\frac{F_{\\mathrm{model}}(D)}{n \\, F_{\\mathrm{peak}} \\, \\mathrm{MFU}}

    >>> from sympy import Rational
    >>> from symcalc import Model
    >>> m = Model(n_layers=2, d_model=64, n_heads=4, n_kv_heads=4, d_ff=256, vocab=100)
    >>> training_time(m, tokens=10**9, n_devices=8, peak_flops=10**12, mfu=Rational(1, 2), seq_len=16)
    2.72 min (163 s); exact 816/5
    >>> training_time(m, tokens=2e12, n_devices=8, peak_flops="989.4T", mfu="40%", seq_len=16).exact
    40000/97

    The formula lives in :class:`symcalc.cost.TrainingCost` (``.seconds``); :func:`symcalc.cost.training_cost`
    adds FLOPs conventions, hardware, GPU-hours, energy and cost, and prints with units.
    """
    from ..cost import training_cost

    return training_cost(model, tokens=tokens, n_devices=n_devices, peak_flops=peak_flops, mfu=mfu,
                         seq_len=seq_len, causal=causal).seconds
