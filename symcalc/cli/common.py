"""What every subcommand shares: safe number parsing, one-line errors, the model flags.

Model flags keep the cookbook's names (``--hidden-size/-hs``, ``--num-layers/-l``, ...). A flag
given on the command line overrides the same field of ``--preset`` or ``--hf-config``; a flag
not given takes the preset's value, or else the active default of :mod:`symcalc.defaults`
(``--cookbook`` selects the cookbook's set for any subcommand).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any, Optional

from sympy import Rational

from .. import defaults as _defaults
from ..errors import SymcalcError
from ..inputs import _short, parse_count
from ..model import NORMS, POSITIONS, Model

__all__ = [
    "SymcalcArgumentParser", "positive_int", "nonnegative_int", "positive_rational",
    "add_model_arguments", "model_from_args", "print_json", "COOKBOOK_MODEL_DEFAULTS", "parse_amount",
    "amount_type", "shown_path", "seq_len_type", "suggest_flag", "add_cookbook_argument", "default_help",
    "add_attention_arguments", "recompute_policy", "Values", "listable", "choice", "MAX_CONFIGS",
    "model_defaults",
]

#: The model flags whose defaults :mod:`symcalc.defaults` holds (flag-built models).
MODEL_FLAGS = ("vocab_size", "hidden_size", "num_layers", "num_attention_heads", "ffn_expansion_factor",
               "num_mlp_linears", "kv_size_ratio", "num_experts", "expert_interval", "topk")
#: The cookbook scripts' model defaults (GPT-NeoX-20B-like sizes), as the cookbook set states them.
COOKBOOK_MODEL_DEFAULTS: dict[str, Any] = {k: _defaults.COOKBOOK[k] for k in MODEL_FLAGS}


def model_defaults(command: str = "") -> dict[str, Any]:
    """The active set's model-flag defaults for a subcommand, and ``sequence_length``."""
    values = _defaults.active().for_command(command or "any")
    out = {k: values[k] for k in MODEL_FLAGS}
    out["sequence_length"] = values["seq_len"]
    return out


def default_help(key: str, command: str = "", show: Any = str) -> str:
    """``"default X"``, with ``"; --cookbook: Y"`` where the cookbook's set differs (for --help)."""
    today = _defaults.TODAY.for_command(command or "any")[key]
    cook = _defaults.COOKBOOK.for_command(command or "any")[key]
    return f"default {show(today)}" + ("" if cook == today else f"; --cookbook: {show(cook)}")


def add_attention_arguments(group: Any, command: str) -> None:
    """``--attention {flash,eager}`` (``--flash-attention`` = flash) and ``--dropout/--no-dropout``, defaults in the help."""
    group.add_argument("--attention", type=listable(choice("flash", "eager")), metavar="{flash,eager}",
                       help="flash: no s^2 scores kept (the output and fp32 logsumexp instead); eager: Korthikanti's "
                            "scores, dropout mask and output (" + default_help(
                                "flash_attention", command, lambda v: "flash" if v else "eager") + ")")
    group.add_argument("--flash-attention", dest="attention", action="store_const", const="flash",
                       help="the same as --attention flash")
    group.add_argument("--dropout", action=argparse.BooleanOptionalAction, default=None,
                       help="dropout masks kept (" + default_help(
                           "dropout", command, lambda v: "only if the model has dropout" if v == "model" else
                           ("on" if v else "off")) + ")")


def recompute_policy(args: argparse.Namespace, *, ca_flag: str, ca_policy: str, default_key: str,
                     ca_says: str) -> tuple[str, str]:
    """The recompute policy and where it came from: ``--recompute``, the cookbook's ``-ca`` (``ca_flag``,
    meaning ``ca_policy`` in this subcommand), or the active default ``default_key``."""
    policy, ca = getattr(args, "recompute", None), getattr(args, ca_flag.lstrip("-").replace("-", "_"), None)
    if ca and policy not in (None, ca_policy):
        raise SymcalcError(f"{ca_flag} (-ca: {ca_policy} recompute) with --recompute {policy}; give one of them")
    if policy is not None:
        return policy, "--recompute"
    if ca:
        return ca_policy, ca_says
    return _defaults.active()[default_key], _defaults.active().label


def add_cookbook_argument(parser: argparse.ArgumentParser) -> None:
    """``--cookbook``: the EleutherAI cookbook calculators' defaults instead of today's (any subcommand)."""
    if any("--cookbook" in a.option_strings for a in parser._actions):
        return
    parser.add_argument("--cookbook", action="store_true",
                        help="use the EleutherAI cookbook calculators' defaults (eager attention with dropout, "
                             "DeepSpeed buffers, s = 2048, one full recompute in flops, ...) instead of today's; "
                             "see docs/concepts.md, Defaults")


class SymcalcArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage dump) and exit status 2; no abbreviated flags.

    Abbreviations are off: ``--tp`` must not silently become ``plan``'s ``--tp-bandwidth``; an
    unknown flag is reported with the flag meant (:func:`suggest_flag`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        """Print ``symcalc CMD: error: MESSAGE`` (one line, no usage block) and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def _flag_spelling(action: argparse.Action) -> str:
    """``-tp/--tensor-parallel-size``: an action's option strings, short ones first."""
    return "/".join(sorted(action.option_strings, key=lambda o: (o.startswith("--"), len(o))))


#: Names people type for a flag -> the flag (without dashes).
_SYNONYMS = {
    "seq-len": "sequence-length", "seqlen": "sequence-length", "seq-length": "sequence-length",
    "micro-batch": "batch-size-per-gpu", "micro-batch-size": "batch-size-per-gpu", "mbs": "batch-size-per-gpu",
    "global-batch": "global-batch-size", "zero": "zero-stage", "layers": "num-layers", "n-layers": "num-layers",
    "heads": "num-attention-heads", "n-heads": "num-attention-heads", "hidden": "hidden-size", "d-model": "hidden-size",
    "vocab": "vocab-size", "experts": "num-experts", "n-experts": "num-experts", "top-k": "topk", "gpus": "num-gpus",
    "n-gpus": "num-gpus", "devices": "num-gpus", "n-devices": "num-gpus", "kv-heads": "num-kv-heads",
    "n-kv-heads": "num-kv-heads", "cp": "context-parallel-size", "ep": "expert-parallelism", "d-ff": "ffn-hidden-size",
    "ffn": "ffn-hidden-size", "flash": "flash-attention", "gpu-mem": "gpu-memory", "memory": "gpu-memory",
}


def suggest_flag(parser: argparse.ArgumentParser, unknown: str) -> Optional[str]:
    """The flag of ``parser`` meant by an unknown one: same letters without dashes, else the closest.

    >>> p = SymcalcArgumentParser(prog="symcalc mem")
    >>> _ = p.add_argument("--tensor-parallel-size", "-tp")
    >>> _ = p.add_argument("--num-gpus")
    >>> suggest_flag(p, "--tp"), suggest_flag(p, "--num-gpu"), suggest_flag(p, "--zzz")
    ('-tp/--tensor-parallel-size', '--num-gpus', None)
    """
    import difflib

    name = unknown.split("=", 1)[0]
    bare = name.lstrip("-").replace("_", "-").lower()
    actions = [a for a in parser._actions if a.option_strings]
    for word in (bare, _SYNONYMS.get(bare)):
        for a in actions:
            if word and any(o.lstrip("-").lower() == word for o in a.option_strings):
                return _flag_spelling(a)
    by_option = {o: a for a in actions for o in a.option_strings}
    # --tensor-parallel for --tensor-parallel-size, --gpus for --num-gpus: when only one flag fits
    parts = [a for a in actions if any(
        bare in o.lstrip("-").split("-") or len(bare) >= 3 and o.lstrip("-").startswith(bare)
        for o in a.option_strings if o.startswith("--"))]
    if 1 <= len(parts) <= 3:
        return " or ".join(_flag_spelling(a) for a in parts)
    close = difflib.get_close_matches(name, list(by_option), n=1, cutoff=0.75)
    return _flag_spelling(by_option[close[0]]) if close else None


#: Largest value a size flag takes (far beyond any model, token count or degree): it keeps
#: the float64 paths (sweeps, solvers, the planner) finite.
MAX_FLAG_VALUE = 10**18
#: Largest amount (budget, compute, FLOP/s, bandwidth, GiB of overhead) the CLI takes: beyond it
#: the float64 paths of the solvers and the planner overflow.
MAX_AMOUNT = 10**30


def _number_type(kind: str, *, minimum: int, allow_fraction: bool):
    """An argparse type: the one safe parser of :mod:`symcalc.inputs` (regex + Fraction, never eval)."""

    def parse(text: str):
        try:
            value = parse_count(text, "value")
        except SymcalcError as exc:
            reason = str(exc).split("=", 1)[-1][len(_short(text)):].strip().split(";")[0]
            if text.strip().startswith("-"):
                reason = "is negative"
            raise argparse.ArgumentTypeError(f"{text!r:.60} {reason}; expected {kind}") from None
        if not allow_fraction and not value.is_Integer:
            raise argparse.ArgumentTypeError(f"{text!r:.60} is not a whole number; expected {kind}")
        if value < minimum or (allow_fraction and value <= 0):
            raise argparse.ArgumentTypeError(f"{text!r:.60} is out of range; expected {kind}")
        if value > MAX_FLAG_VALUE or (allow_fraction and value < Rational(1, MAX_FLAG_VALUE)):
            raise argparse.ArgumentTypeError(f"{text!r:.60} is out of range; expected {kind} of at most 1e18"
                                             + (" and at least 1e-18" if allow_fraction else ""))
        return value

    parse.__name__ = kind
    parse.__doc__ = (f"argparse type: {kind}, read by the safe parser of :mod:`symcalc.inputs` (never eval), "
                     "as an exact sympy number of at most 1e18.")
    return parse


#: argparse types: the safe parser of :mod:`symcalc.inputs`, exact sympy numbers, at most 1e18.
positive_int = _number_type("a positive integer", minimum=1, allow_fraction=False)
nonnegative_int = _number_type("a non-negative integer", minimum=0, allow_fraction=False)
positive_rational = _number_type("a positive number", minimum=0, allow_fraction=True)


_SEQ_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmM])\s*$")


def seq_len_type(text: str):
    """A sequence length: a positive integer, where ``k``/``m`` are 1024 and 1024² as model cards write
    context lengths (``4k`` = 4096, ``32k`` = 32768, ``128K`` = 131072, ``1M`` = 1048576).

    >>> seq_len_type("4k"), seq_len_type("128K"), seq_len_type("4096"), seq_len_type("1M")
    (4096, 131072, 4096, 1048576)
    """
    match = _SEQ_RE.match(text) if isinstance(text, str) else None
    if match:
        value = Rational(match.group(1)) * (1024 if match.group(2).lower() == "k" else 1024**2)
        if not value.is_Integer:
            raise argparse.ArgumentTypeError(f"{text!r:.60} is not a whole number of tokens; expected e.g. 4k or 4096")
        return positive_int(str(value))
    return positive_int(text)


seq_len_type.__name__ = "a sequence length"


class Values(tuple):
    """Comma-separated values of one flag (``-tp 1,2,4``): each is one configuration of a comparison."""


#: Most configurations one comparison may ask for (the product of the lists' lengths).
MAX_CONFIGS = 256


def listable(convert: Any) -> Any:
    """An argparse type that also takes comma-separated values (``-z 0,1,2,3``), each converted by ``convert``.

    >>> listable(positive_int)("1,2,4"), listable(positive_int)("8")
    ((1, 2, 4), 8)
    """

    def parse(text: str):
        if not (isinstance(text, str) and "," in text):
            return convert(text)
        items = [t.strip() for t in text.split(",")]
        if not all(items):
            raise argparse.ArgumentTypeError(f"{text!r:.60} has an empty value between commas; e.g. 1,2,4")
        values = Values(convert(t) for t in items)
        if len(set(values)) != len(values):
            raise argparse.ArgumentTypeError(f"{text!r:.60} gives a value twice; list each once")
        return values

    parse.__name__ = getattr(convert, "__name__", "value")
    return parse


def choice(*choices: str) -> Any:
    """An argparse type for one of ``choices`` (``listable(choice(...))`` takes several, comma-separated)."""

    def parse(text: str) -> str:
        if text not in choices:
            raise argparse.ArgumentTypeError(f"{text!r:.60} is not one of {', '.join(choices)}")
        return text

    parse.__name__ = "one of " + ", ".join(choices)
    return parse


def parse_amount(text: Any, flag: str, parse: Any, *, positive: bool = True, maximum: int = MAX_AMOUNT) -> Any:
    """``parse(text)`` (one of :mod:`symcalc.inputs`' exact parsers) within ``(0, maximum]``.

    The parser bounds exponents and lengths (``1e1000000000`` is refused, never built); the value
    must be one the float64 paths hold: at most 1e30 and not below 1e-30; ``positive=False``
    allows 0. A leading minus sign is "negative", not "not a number".
    """
    text = str(text)
    try:
        value = parse(text)
    except SymcalcError as exc:
        if text.strip().startswith("-"):
            raise SymcalcError(f"{flag} {text!r:.60} is negative; give {'a value above 0' if positive else '0 or more'}") from None
        message = str(exc)
        raise SymcalcError(message if message.startswith(flag) else f"{flag} {message.split('=', 1)[-1]}") from None
    if value > maximum or (positive and value <= 0) or value < 0 or (value != 0 and value < Rational(1, maximum)):
        low = "above 0" if positive else "0"
        raise SymcalcError(f"{flag} {text!r:.60} is out of range; give {low} up to 1e30 (and not below 1e-30)")
    return value


def amount_type(flag: str, parse: Any, *, positive: bool = True, maximum: int = MAX_AMOUNT):
    """An argparse type over :func:`parse_amount` (errors name ``flag``)."""

    def convert(text: str):
        try:
            return parse_amount(text, flag, parse, positive=positive, maximum=maximum)
        except SymcalcError as exc:
            raise argparse.ArgumentTypeError(str(exc).replace(f"{flag} ", "", 1)) from None

    convert.__name__ = "an amount"
    return convert


def add_model_arguments(parser: argparse.ArgumentParser, *, sequence_help: Optional[str] = None,
                        defaults: Optional[dict[str, Any]] = None) -> None:
    """Add the model flags (cookbook names) to ``parser``; all default to None ("not given").

    The help states the defaults of :mod:`symcalc.defaults` for this subcommand (today's, and the
    cookbook's where they differ); ``defaults`` replaces some of those texts (``symcalc latex``:
    "h, a symbol").
    """
    command = parser.prog.split()[-1] if parser.prog else ""
    d = {k: default_help(k, command) for k in MODEL_FLAGS}
    d.update({k: f"default {v}" for k, v in (defaults or {}).items()})
    src = parser.add_argument_group("model source (flags below override its fields)")
    src.add_argument("--preset", metavar="NAME", help="a built-in model, e.g. llama-2-7b (see `symcalc presets`)")
    src.add_argument("--hf-config", metavar="PATH", help="a local Hugging Face config.json (or its folder)")
    src.add_argument("--mtp", action="store_true", default=None,
                     help="add the multi-token-prediction modules the config declares (DeepSeek-V3, GLM-4.5: "
                          "num_nextn_predict_layers); transformers does not build them, the checkpoint stores them")

    g = parser.add_argument_group("model sizes (cookbook flag names)")
    g.add_argument("--vocab-size", "-v", type=listable(positive_int), help=f"vocabulary size v ({d['vocab_size']})")
    g.add_argument("--hidden-size", "-hs", type=listable(positive_int), help=f"hidden size h ({d['hidden_size']})")
    g.add_argument("--num-layers", "-l", type=listable(positive_int), help=f"transformer layers L ({d['num_layers']})")
    g.add_argument("--num-attention-heads", "-a", type=listable(positive_int), help=f"query heads a ({d['num_attention_heads']})")
    g.add_argument("--num-kv-heads", type=listable(positive_int), help="key/value heads g (default: a, i.e. MHA)")
    g.add_argument("--kv-size-ratio", "-kv", type=listable(positive_rational),
                   help="KV heads / query heads: 1 for MHA, 1/a for MQA (g = a * ratio must be whole)")
    g.add_argument("--head-dim", type=listable(positive_int), help="head dimension d_h (default h / a)")
    g.add_argument("--ffn-expansion-factor", "-ff", type=listable(positive_rational),
                   help=f"MLP inner size as a multiple of h ({d['ffn_expansion_factor']}; "
                        "fractions such as 3.5 or 8/3 are fine if f is whole)")
    g.add_argument("--ffn-hidden-size", type=listable(positive_int), help="MLP inner size f (overrides -ff)")
    g.add_argument("--num-mlp-linears", "-nl", type=positive_int,
                   help="linear layers per MLP: 2 (plain) or 3 (gated: SwiGLU/GeGLU)")
    g.add_argument("--swiglu", action="store_true", default=None, help="gated SiLU MLP (same as -nl 3)")
    g.add_argument("--tied-embeddings", action="store_true", default=None,
                   help="the LM head shares the token-embedding matrix")
    g.add_argument("--norm", choices=NORMS, help="norm kind (default layernorm, with bias)")
    g.add_argument("--no-bias", action="store_true", default=None,
                   help="no biases on linear layers (default for flag-built models: biases everywhere, as GPT-NeoX)")
    g.add_argument("--position", choices=POSITIONS,
                   help="position encoding (default rope: no parameters; learned adds a table of --sequence-length rows)")

    moe = parser.add_argument_group("mixture of experts")
    moe.add_argument("--moe", action="store_true", default=None, help="the model is MoE")
    moe.add_argument("--num-experts", "-e", type=listable(nonnegative_int),
                     help=f"experts per MoE layer with --moe ({d['num_experts']}); 0 = dense")
    moe.add_argument("--expert-interval", "-ei", type=listable(positive_int),
                     help=f"every k-th layer is MoE; must divide L ({d['expert_interval']}; 1: all layers)")
    moe.add_argument("--topk", "-t", type=listable(positive_int), help=f"experts per token ({d['topk']})")


def _given(args: argparse.Namespace, name: str) -> bool:
    return getattr(args, name, None) is not None


def _base_model(args: argparse.Namespace) -> Optional[Model]:
    if _given(args, "preset") and _given(args, "hf_config"):
        raise SymcalcError("--preset and --hf-config both given; choose one model source")
    mtp = bool(getattr(args, "mtp", None))
    if _given(args, "preset"):
        return Model.preset(args.preset, mtp=mtp)
    if _given(args, "hf_config"):
        return Model.from_hf_config(args.hf_config, mtp=mtp)
    if mtp:
        raise SymcalcError("--mtp needs --preset or --hf-config (a config with num_nextn_predict_layers)")
    return None


def model_from_args(
    args: argparse.Namespace,
    defaults: Optional[dict[str, Any]] = None,
    *,
    learned_positions_from: Optional[str] = "sequence_length",
) -> Model:
    """Build the Model the flags describe (one-line ``SymcalcError`` on inconsistent flags).

    Flags not given take the active defaults (:mod:`symcalc.defaults`, the subcommand's own where
    the cookbook's scripts differ); ``defaults`` overrides some of them (``symcalc latex``: symbols).
    """
    d = model_defaults(getattr(args, "command", "") or "")
    d.update(defaults or {})
    base = _base_model(args)

    def pick(flag: str, current: Any) -> Any:
        if _given(args, flag):
            return getattr(args, flag)
        return current if base is not None else d[flag]

    h = pick("hidden_size", base.d_model if base else None)
    a = pick("num_attention_heads", base.n_heads if base else None)
    changes: dict[str, Any] = {"d_model": h, "n_heads": a}
    changes["n_layers"] = pick("num_layers", base.n_layers if base else None)
    changes["vocab"] = pick("vocab_size", base.vocab if base else None)
    if _given(args, "head_dim"):
        changes["d_head"] = args.head_dim

    # KV heads: --num-kv-heads, or -kv ratio times the query heads.
    if _given(args, "num_kv_heads") and _given(args, "kv_size_ratio"):
        if args.num_kv_heads != args.kv_size_ratio * a:
            raise SymcalcError(
                f"--num-kv-heads {args.num_kv_heads} and --kv-size-ratio {args.kv_size_ratio} disagree "
                f"with {a} query heads; give one of them"
            )
    g = _size_from_ratio(
        args, d, base, size_flag="num_kv_heads", ratio_flag="kv_size_ratio", of_flag="num_attention_heads", of=a,
        base_ratio=lambda m: m.n_kv_heads / m.n_heads,
        message="--kv-size-ratio {ratio} with {of} attention heads gives {size} KV heads; "
                "it must give a whole number of at least 1 (1 for MHA, 1/a for MQA)",
    )
    if g is not None:
        changes["n_kv_heads"] = g

    # MLP inner size: --ffn-hidden-size, or -ff times h.
    if _given(args, "ffn_hidden_size") and _given(args, "ffn_expansion_factor"):
        raise SymcalcError("--ffn-hidden-size and --ffn-expansion-factor both given; give one of them")
    f = _size_from_ratio(
        args, d, base, size_flag="ffn_hidden_size", ratio_flag="ffn_expansion_factor", of_flag="hidden_size", of=h,
        base_ratio=lambda m: m.d_ff / m.d_model,
        message="--ffn-expansion-factor {ratio} times --hidden-size {of} is {size}, not a whole number; "
                "use --ffn-hidden-size to give the MLP size exactly",
    )
    if f is not None:
        changes["d_ff"] = f

    nl = args.num_mlp_linears if _given(args, "num_mlp_linears") else None
    if args.swiglu:
        if nl is not None and nl != 3:
            raise SymcalcError(f"--swiglu with --num-mlp-linears {nl}: a SwiGLU MLP has 3 linears")
        nl = 3
        changes["activation"] = "silu"
    if nl is None and base is None:
        nl = d["num_mlp_linears"]
    if nl is not None:
        if nl not in (2, 3):
            raise SymcalcError(f"--num-mlp-linears {nl}: use 2 (plain MLP) or 3 (gated MLP: SwiGLU, GeGLU)")
        changes["gated_mlp"] = nl == 3
    if args.tied_embeddings:
        changes["tied_embeddings"] = True
    if _given(args, "norm"):
        changes["norm"] = args.norm
        changes["norm_bias"] = args.norm == "layernorm"
    if base is None:
        bias = not args.no_bias
        changes.update(qkv_bias=bias, attn_out_bias=bias, mlp_bias=bias)
    elif args.no_bias:
        changes.update(qkv_bias=False, attn_out_bias=False, mlp_bias=False, lm_head_bias=False)
    if _given(args, "position"):
        changes["position"] = args.position
    position = changes.get("position", base.position if base else "rope")
    if position == "learned" and learned_positions_from:
        seq = getattr(args, learned_positions_from, None)
        if seq is not None:
            changes["n_positions"] = seq
        elif base is None or base.position != "learned":
            changes["n_positions"] = d["sequence_length"]
    elif position != "learned":
        changes["n_positions"] = None

    # MoE
    moe_wanted = bool(args.moe) or (_given(args, "num_experts") and args.num_experts != 0) or (
        base is not None and base.is_moe and not (_given(args, "num_experts") and args.num_experts == 0))
    if moe_wanted:
        changes["n_experts"] = pick("num_experts", base.n_experts if base and base.is_moe else d["num_experts"])
        if changes["n_experts"] == 0:
            given = "with --num-experts 0" if _given(args, "num_experts") else "without --num-experts"
            raise SymcalcError(f"--moe {given}; give the experts per MoE layer (--num-experts N, at least 1)")
        changes["top_k"] = pick("topk", base.top_k if base and base.is_moe else d["topk"])
        interval = pick("expert_interval", base.moe_interval if base and base.is_moe else d["expert_interval"])
        n_layers = changes["n_layers"]
        # A config's own layout may leave a remainder (decoder_sparse_step); one from flags may not.
        from_flags = _given(args, "expert_interval") or base is None or not base.is_moe
        if from_flags and (n_layers / interval).is_integer is False:
            raise SymcalcError(
                f"--expert-interval {interval} does not divide --num-layers {n_layers}; "
                "pick an interval that divides the layer count (1: every layer is MoE)"
            )
        changes["moe_interval"] = int(interval)
    else:
        for flag in ("topk", "expert_interval"):
            if _given(args, flag):
                raise SymcalcError(f"--{flag.replace('_', '-')} given for a dense model; add --moe (and --num-experts)")
        changes["n_experts"] = 0
        if base is not None and base.is_moe:  # -e 0 on an MoE preset: its dense counterpart
            changes.update(n_shared_experts=0, shared_expert_gate=False, moe_interval=1, first_dense_layers=0,
                           router_bias=False)

    try:
        return Model(**changes) if base is None else base.replace(**changes)
    except SymcalcError as exc:
        raise SymcalcError(_flag_names(str(exc))) from None


def _size_from_ratio(args: argparse.Namespace, defaults: dict[str, Any], base: Optional[Model], *,
                     size_flag: str, ratio_flag: str, of_flag: str, of: Any, base_ratio: Any, message: str) -> Any:
    """A size given directly (``size_flag``) or as a ratio of another (``ratio_flag`` times ``of``).

    The ratio is the flag's, else the cookbook default (flag-built models) or the base model's own
    ratio when ``of`` changed; None when nothing changes the base model's size.
    """
    if _given(args, size_flag):
        return getattr(args, size_flag)
    if not (_given(args, ratio_flag) or base is None or _given(args, of_flag)):
        return None
    if _given(args, ratio_flag):
        ratio = getattr(args, ratio_flag)
    else:
        ratio = defaults[ratio_flag] if base is None else base_ratio(base)
    size = ratio * of
    if not size.is_integer or (size - 1).is_negative:
        raise SymcalcError(message.format(ratio=ratio, of=of, size=size))
    return size


#: Model field -> the flag that sets it, for error messages.
_FIELD_FLAGS = {
    "n_layers": "--num-layers", "d_model": "--hidden-size", "n_heads": "--num-attention-heads",
    "n_kv_heads": "--num-kv-heads", "d_head": "--head-dim", "d_ff": "--ffn-hidden-size",
    "vocab": "--vocab-size", "n_experts": "--num-experts", "top_k": "--topk", "n_positions": "--sequence-length",
}


def _flag_names(message: str) -> str:
    """``n_heads=3 does not divide d_model=100`` -> ``--num-attention-heads 3 does not divide --hidden-size 100``."""
    return re.sub(r"\b(" + "|".join(_FIELD_FLAGS) + r")=", lambda m: _FIELD_FLAGS[m.group(1)] + " ", message)


def shown_path(path: Any) -> str:
    """A path for a one-line message: as typed, or its repr when it holds a newline or control character."""
    text = str(path)
    return text if text.isprintable() else repr(text)


def print_json(obj: Any) -> None:
    """Print one JSON object (sorted keys off: keep the documented order)."""
    json.dump(obj, sys.stdout, indent=2)
    sys.stdout.write("\n")
