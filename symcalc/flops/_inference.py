"""Inference FLOPs: prefill, one decode step with a KV cache, a whole generation in closed form.

Conventions are stated once, in :mod:`symcalc.flops`.
"""

from __future__ import annotations

from typing import Any, Optional

from sympy import Expr

from .. import symbols as S
from ..breakdown import Breakdown
from ..inputs import as_bool, as_choice, as_count, as_model
from ..structure import WINDOW_FLOPS
from ..model import Model
from ._count import _count, _square, pass_parts, window_pairs

__all__ = ["prefill_flops", "decode_flops", "generation_flops"]


def _context(value: Any) -> Expr:
    """A KV-cache length: a non-negative whole number of tokens (zero: nothing cached yet)."""
    return as_count("context_len", value)


def prefill_flops(model: Model, *, prompt_len: Any = S.seq_len, batch: Any = 1, causal: Optional[bool] = None,
                  elementwise: Optional[bool] = None, all_logits: bool = False, window_flops: Optional[str] = None) -> Breakdown:
    """FLOPs of the prefill of ``batch`` prompts of ``prompt_len`` tokens.

    The LM head runs on the last position only (what ``generate`` and serving engines do);
    ``all_logits=True`` computes logits everywhere, as a training forward or scoring pass does.

    >>> from symcalc import Model
    >>> from symcalc.flops import forward_flops
    >>> m = Model()
    >>> (forward_flops(m).total - prefill_flops(m).total).factor()
    2*d_model*vocab*(seq_len - 1)

    Parameters
    ==========

    prompt_len : tokens per prompt (default the symbol s)
    batch : prompts
    window_flops : ``"square"`` or ``"band"`` for windowed layers (see :func:`~symcalc.flops.forward_flops`)

    MTP modules (a draft model for speculative decoding) are not counted at inference.
    """
    p, b = _count("prompt_len", prompt_len), _count("batch", batch)
    all_logits = as_bool("all_logits", all_logits)
    band = window_pairs(model, p, causal, window_flops)
    bd = pass_parts(model, tokens=b * p, pairs=b * _square(p, causal), logits=b * p if all_logits else b,
                    elementwise=elementwise, window_pairs=None if band is None else b * band)
    bd.title = "prefill FLOPs"
    return bd


def decode_flops(model: Model, *, context_len: Any = S.context_len, batch: Any = 1,
                 elementwise: Optional[bool] = None, window_flops: Optional[str] = None) -> Breakdown:
    """FLOPs of decoding one token per sequence with ``context_len`` tokens in the KV cache.

    The new token's query meets ``c + 1`` keys (the cache and itself), so the attention core is
    :math:`4 L a d_h (c + 1)` per sequence; the rest is a forward over one token.

    >>> from symcalc import Model
    >>> decode_flops(Model(), context_len=0)["attention/scores"]
    2*d_model*n_layers

    Parameters
    ==========

    context_len : tokens already cached (default the symbol :math:`s_{ctx}`)
    batch : sequences decoded together
    window_flops : a windowed layer meets the keys its cache hands back, ``min(c+1, W)``
        (``"square"``, default, what eager attention computes) or only those inside the window or
        chunk (``"band"``); see :meth:`~symcalc.structure.Window.keys_at`

    An MLA layer, as transformers decodes it, re-expands its whole latent cache (``kv_b`` over the
    ``c + 1`` cached tokens) every step.
    """
    c, b = _context(context_len), _count("batch", batch)
    model = as_model("model", model)
    from ..defaults import resolve

    window_flops = as_choice("window_flops", resolve("window_flops", window_flops), WINDOW_FLOPS)
    win = model.window
    wkeys = None if win.is_full else b * win.keys_at(c, window_flops)
    bd = pass_parts(model, tokens=b, pairs=b * (c + 1), logits=b, elementwise=elementwise,
                    window_pairs=wkeys, keys=b * (c + 1))
    bd.title = "decode FLOPs (one token)"
    return bd


def generation_flops(model: Model, *, prompt_len: Any = S.seq_len, n_generate: Any = S.n_generate,
                     batch: Any = 1, causal: Optional[bool] = None, elementwise: Optional[bool] = None,
                     window_flops: Optional[str] = None) -> Breakdown:
    """FLOPs of generating ``n_generate`` tokens after a ``prompt_len``-token prompt, in closed form.

    The prefill yields the first new token; each further token is one decode step, at context
    positions :math:`p, p+1, \\dots, p+n-2`. The decode steps sum to an arithmetic series:

    .. math::

        \\sum_{i=0}^{n-2} (p + i + 1) = \\frac{(n-1)(2p+n)}{2}

    query-key pairs per head, and :math:`n-1` tokens through every other part. A windowed layer's
    decode steps meet :math:`P(p+n-1) - P(p)` keys, with :math:`P` the window's cumulative pairs
    (:meth:`~symcalc.structure.Window.cumulative_pairs`). Parts are ``prefill/...`` and ``decode/...``.

    >>> from symcalc import Model
    >>> generation_flops(Model(), n_generate=1).select("decode")
    0

    Parameters
    ==========

    prompt_len : tokens in the prompt (default the symbol s)
    n_generate : new tokens (default the symbol :math:`n_{gen}`)
    batch : sequences generated together
    """
    n, b = _count("n_generate", n_generate), _count("batch", batch)
    prefill = prefill_flops(model, prompt_len=prompt_len, batch=batch, causal=causal,
                            elementwise=elementwise, window_flops=window_flops)
    p = _count("prompt_len", prompt_len)
    steps = n - 1
    full_keys = b * steps * (2 * p + n) / 2
    model = as_model("model", model)
    from ..defaults import resolve

    window_flops = as_choice("window_flops", resolve("window_flops", window_flops), WINDOW_FLOPS)
    win = model.window
    wkeys = None
    if not win.is_full:
        conv = "square" if window_flops == "square" else "band"
        wkeys = b * (win.cumulative_pairs(p + n - 1, conv) - win.cumulative_pairs(p, conv))
    decode = pass_parts(model, tokens=b * steps, pairs=full_keys, logits=b * steps, elementwise=elementwise,
                        window_pairs=wkeys, keys=full_keys)
    parts = dict(prefill.prefixed("prefill"))
    parts.update(decode.prefixed("decode"))
    return Breakdown(parts, unit="FLOP", title="generation FLOPs")
