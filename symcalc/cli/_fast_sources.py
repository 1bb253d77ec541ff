"""Where :mod:`symcalc.cli._fast` finds a model besides ``--preset``: the size flags, or a config.json that is a preset's.

Imported only for those sources; like the fast path, it imports neither sympy nor typing.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

__all__ = ["flag_model", "from_config"]


class _Flags:
    """The generated functions of one flag-built structure with the model's sizes bound: looks like a preset's module."""

    SLOW = None

    def __init__(self, module, variant: str, dims: tuple) -> None:
        self._module, self._variant, self._dims = module, variant, dims

    def __getattr__(self, name: str):
        if name.startswith("FLOPS_PARTS_"):
            return getattr(self._module, f"{self._variant.upper()}_{name}")
        function = getattr(self._module, f"{self._variant}_{name}")
        return lambda *args: function(*self._dims, *args)


def flag_model(command: str, opts: dict) -> Optional[tuple]:
    """``(module, INFO)`` of the model the size flags build (symcalc.cli.common.model_from_args), or None."""
    from .._generated import MODEL_DEFAULTS

    d = MODEL_DEFAULTS[command]
    nl = opts.get("nl")
    if opts.get("swiglu"):
        if nl not in (None, 3):
            return None
        variant = "swiglu"
    else:
        nl = d["num_mlp_linears"] if nl is None else nl
        if nl not in (2, 3):
            return None
        variant = "gated" if nl == 3 else "plain"
    L, h, a, v = (opts.get(k, d[key]) for k, key in (("L", "num_layers"), ("h", "hidden_size"),
                                                      ("a", "num_attention_heads"), ("v", "vocab_size")))
    ratio, ff = d["kv_size_ratio"], d["ffn_expansion_factor"]
    if type(ratio) is not int or type(ff) is not int or not all(type(x) is int for x in (L, h, a, v)):
        return None
    g, f = opts.get("g", a * ratio), opts.get("f", ff * h)
    if h % a or a % g:  # d_head = h/a whole; each KV head serves a whole group of query heads
        return None
    from .._generated import flags

    m = _Flags(flags, variant, (L, h, a, g, f, v))
    values = m.params()
    if values is m.SLOW or not all(type(x) is int for x in values):
        return None
    meta = getattr(flags, variant.upper())
    k = len(meta["params_parts"])
    breakdown = dict(zip(meta["params_parts"], values[:k]))
    non_emb, active, trainable, six = values[k:]
    info = dict(name="", describe=f"L={L} h={h} a={a} g={g} d_h={h // a} f={f} v={v} ({meta['structure']})",
                is_moe=False, n_heads=a, n_kv_heads=g, n_layers=L, n_experts=None, window_full=True, six_n=six,
                dropout_places=meta["dropout_places"], settings_head=meta["settings_head"], trainable_params=trainable,
                params=dict(breakdown=breakdown, total=sum(breakdown.values()), trainable=trainable,
                            non_embedding=non_emb, active=active))
    return m, info


def _same_json(a, b) -> bool:
    """JSON values equal with their types (``false`` is not ``0``, ``1`` is not ``1.0``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b))
    return a == b


def from_config(path: str) -> Optional[tuple]:
    """``(preset, model name)`` when the config.json at ``path`` (or in that folder) is a preset's model: at every
    field symcalc's reader looks at it holds a value that gives the preset's model (:func:`symcalc._fastgen_hf.hf_spec`).
    None otherwise, and for anything the full path would refuse or read differently."""
    import json
    import os

    from .._generated.hf import BY_TYPE, MISSING

    if os.path.isdir(path):
        path = os.path.join(path, "config.json")
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(16 * 2**20 + 1)
        data = json.loads(text) if len(text) <= 16 * 2**20 else None
    except (OSError, ValueError, RecursionError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("model_type"), str):
        return None

    def at(keys: tuple):
        value = data
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                return MISSING
            value = value[key]
        return value

    for preset, spec in BY_TYPE.get(data["model_type"], ()):
        if all(any(_same_json(at(keys), v) for v in values) for keys, values in spec):
            name = data.get("_name_or_path") or ""
            if not name:
                name = os.path.basename(os.path.dirname(os.path.abspath(path)))
            return preset, str(name)
    return None
