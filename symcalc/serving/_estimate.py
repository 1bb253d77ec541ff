"""Serving a model: time to first token, time per output token, throughput, memory and the largest batch.

Conventions are stated once, in :mod:`symcalc.serving`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Optional

from sympy import Expr, Integer

from .. import symbols as S
from ..breakdown import Breakdown, as_substitutions
from ..display import html_table, quantity, readable, significant
from ..inputs import as_bool, as_expr, as_model, as_size
from ..model import Model
from ._roofline import Step, _device, decode_step, prefill_step

__all__ = ["ServingEstimate", "serving", "mean_context"]


def mean_context(prompt_len: Any, n_generate: Any) -> Expr:
    """The mean cache length over a generation's decode steps: s + (n - 2)/2 (s when n = 1).

    Decode step j = 1 ... n - 1 runs with s + j - 1 tokens cached (the prefill yields the first token).

    >>> mean_context(2048, 128), mean_context(100, 1)
    (2111, 100)
    """
    s, n = as_size("prompt_len", prompt_len), as_size("n_generate", n_generate)
    if n == 1:
        return s
    return s + (n - 2) / Integer(2)


@dataclass(frozen=True)
class ServingEstimate:
    """A prefill and a decode step of one replica, its memory, and what follows from them.

    Results are properties written once here: ``ttft`` (the prefill), ``tpot`` (a decode step at
    the generation's mean context), ``tokens_per_s = batch / tpot``, ``latency = ttft + (n - 1)
    tpot``, ``kv_cache_bytes`` (per device, ``s + n`` tokens per sequence), ``max_batch`` (the
    largest batch whose memory fits the device, solved).
    """

    prefill: Step
    decode: Step
    memory: Breakdown
    batch: Expr
    n_generate: Expr
    max_batch: Any = None            #: a :class:`~symcalc.solve.Solution`, or None when not solvable
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from ..errors import SymcalcError
        from ..solve import Solution

        for key in ("prefill", "decode"):
            if not isinstance(getattr(self, key), Step):
                raise SymcalcError(f"ServingEstimate.{key}={getattr(self, key)!r:.60} is not a Step")
        if not isinstance(self.memory, Breakdown):
            raise SymcalcError(f"ServingEstimate.memory={self.memory!r:.60} is not a Breakdown")
        for key in ("batch", "n_generate"):
            object.__setattr__(self, key, as_size(f"ServingEstimate.{key}", getattr(self, key)))
        if self.max_batch is not None and not isinstance(self.max_batch, Solution):
            raise SymcalcError(f"ServingEstimate.max_batch={self.max_batch!r:.60} is not a Solution (or None)")
        if not isinstance(self.info, Mapping):
            raise SymcalcError(f"ServingEstimate.info={self.info!r:.60} is not a mapping")
        as_expr("memory total", self.memory.total)

    # Each result is a Quantity once it is a number (symcalc.display's rule), the expression before.
    @property
    def ttft(self) -> Expr:
        """Time to first token [s]: the prefill of the batch's prompts."""
        return quantity(self.prefill.seconds, "s")

    @property
    def tpot(self) -> Expr:
        """Time per output token [s]: one decode step at the mean context."""
        return quantity(self.decode.seconds, "s")

    @property
    def tokens_per_s(self) -> Expr:
        """Output tokens per second of the replica while decoding: batch / TPOT."""
        return quantity(self.batch / self.tpot, "tokens/s")

    @property
    def latency(self) -> Expr:
        """Seconds from the prompts to the last of ``n_generate`` tokens: TTFT + (n - 1) TPOT."""
        return quantity(self.ttft + (self.n_generate - 1) * self.tpot, "s")

    @property
    def e2e_tokens_per_s(self) -> Expr:
        """Output tokens per second over the whole request: batch x n / latency."""
        return quantity(self.batch * self.n_generate / self.latency, "tokens/s")

    @property
    def kv_cache_bytes(self) -> Expr:
        """KV-cache bytes per device at the end of the generation."""
        return quantity(self.memory["kv_cache"], "bytes")

    @property
    def memory_bytes(self) -> Expr:
        """Inference memory per device: weights, KV cache, the prefill's transient activations."""
        return quantity(self.memory.total, "bytes")

    @property
    def fits(self) -> Optional[bool]:
        """Whether the memory fits the device (None while symbolic)."""
        diff = self.memory_bytes - self.decode.device.memory
        return None if diff.free_symbols else bool(diff <= 0)

    RESULTS = ("ttft", "tpot", "tokens_per_s", "latency", "e2e_tokens_per_s", "kv_cache_bytes", "memory_bytes")

    def results(self) -> dict[str, Expr]:
        """The results by name (the ``RESULTS`` fields), as for ``--json``."""
        return {k: getattr(self, k) for k in self.RESULTS}

    def subs(self, *args: Any, **kwargs: Any) -> "ServingEstimate":
        """Substitute into every quantity (``max_batch`` is not re-solved)."""
        mapping = as_substitutions(*args, **kwargs)
        return replace(self, prefill=self.prefill.subs(mapping), decode=self.decode.subs(mapping),
                       memory=self.memory.subs(mapping), batch=self.batch.subs(mapping),
                       n_generate=self.n_generate.subs(mapping))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: seconds and bytes as numbers (null while symbolic), the exact values as strings."""
        from .._numfmt import exact_text
        from ..cost import _number

        out: dict[str, Any] = dict(self.info)
        out.update(ttft_s=_number(self.ttft), tpot_s=_number(self.tpot), tokens_per_s=_number(self.tokens_per_s),
                   bound=self.decode.bound, prefill_bound=self.prefill.bound,
                   kv_cache_bytes=_ceil(self.kv_cache_bytes), memory_bytes=_ceil(self.memory_bytes),
                   device_memory_bytes=_ceil(self.decode.device.memory), fits=self.fits,
                   max_batch=None if self.max_batch is None else self.max_batch.value,
                   latency_s=_number(self.latency), e2e_tokens_per_s=_number(self.e2e_tokens_per_s))
        for name, step in (("prefill", self.prefill), ("decode", self.decode)):
            out[f"{name}_parts_s"] = {k: _number(v) for k, v in step.time.items()}
            out[f"{name}_flops"] = _number(step.flops.total)
            out[f"{name}_traffic_bytes"] = _number(step.traffic.total)
            out[f"{name}_compute_s"] = _number(step.compute_seconds)
            out[f"{name}_memory_s"] = _number(step.memory_seconds)
            out[f"{name}_comm_s"] = _number(step.comm_seconds)
        out["exact"] = {k: exact_text(as_expr(k, v)) for k, v in self.results().items()}
        return out

    def _lines(self) -> list[tuple[str, str]]:
        def ms(v: Expr) -> str:
            v = as_expr("seconds", v)
            return f"{v * 1000} ms" if v.free_symbols else f"{significant(float(v) * 1000, 4)} ms"

        dev_mem = self.decode.device.memory
        rows = [("time to first token", ms(self.ttft) + f" (prefill, {self.prefill.bound or '?'}-bound)"),
                ("time per output token", ms(self.tpot) + f" (decode at context {self.info.get('decode_context')}, "
                                                         f"{self.decode.bound or '?'}-bound)"),
                ("throughput", readable(self.tokens_per_s, "tokens/s") + f" (batch {self.batch} / TPOT)"),
                ("latency", ms(self.latency) + f" (TTFT + {self.n_generate - 1} x TPOT)"),
                ("KV cache", readable(self.kv_cache_bytes, "bytes") + " per device"),
                ("memory", readable(self.memory_bytes, "bytes") + " per device"
                 + ("" if dev_mem.free_symbols else f" of {readable(dev_mem, 'bytes')}"))]
        if self.max_batch is not None:
            mb = self.max_batch
            rows.append(("max batch", f"{mb.value} sequences ({mb.method})" if mb.feasible else
                         "none fits (the weights alone exceed the device)"))
        return rows

    def __str__(self) -> str:
        width = max(len(k) for k, _ in self._lines())
        return "\n".join(f"{k:<{width}}  {v}" for k, v in self._lines())

    def _repr_html_(self) -> str:
        return html_table(self._lines(), header=("serving", ""), title=f"serving {self.info.get('model', '')}")


def _ceil(value: Expr) -> Any:
    from sympy import ceiling

    return None if value.free_symbols else int(ceiling(value))


def serving(model: Model, *, prompt_len: Any = S.seq_len, n_generate: Any = S.n_generate, batch: Any = S.micro_batch,
            tp: Any = 1, pp: Any = 1, prefill_batch: Any = None, weights: Any = None, storage: Any = None,
            bytes_kv: Any = None,
            bytes_act: Any = None, experts: Optional[str] = None, causal: Optional[bool] = None,
            flash_attention: bool = True, hardware: Any = None, dtype: Optional[str] = None, peak_flops: Any = None, mem_bandwidth: Any = None,
            bandwidth_scaleup: Any = None, memory: Any = None, compute_efficiency: Any = None,
            memory_efficiency: Any = None, link_efficiency: Any = None) -> ServingEstimate:
    """Serve ``batch`` sequences of ``prompt_len`` prompt tokens, generating ``n_generate`` tokens each.

    Parameters
    ----------
    model : Model
    prompt_len : s [tokens]; n_generate : n [tokens]; batch : b [sequences decoded together]
    tp : TP degree of the replica (all-reduces on the scale-up link); pp : pipeline degree, for the
        memory only (latency is modelled for tp alone: ``pp`` must be 1 for the times)
    prefill_batch : prompts prefilled at once, for the transient memory (default b: the whole batch)
    weights, bytes_kv, bytes_act : bytes per weight (``"int4"``, ``"fp8"``...), per KV value, per activation
        (None: the active defaults; activations the precision recipe's, bf16: 2); a weight dtype below
        16 bits stores the linears only (the rest 16-bit), in the memory and in every step's traffic alike
    storage : a :class:`~symcalc.memory.Storage` or a format name (``"nf4"``...), optional: the linears
        with their scales, for the memory and the traffic (see :func:`~symcalc.memory.inference_memory`)
    experts : ``"expected"`` or ``"all"`` routed experts read per MoE layer (see :mod:`symcalc.serving`)
    causal : the prefill's attention computes half the square (flash attention); flash_attention :
        the prefill's transient memory keeps no s^2 scores
    hardware, dtype, peak_flops, mem_bandwidth, bandwidth_scaleup, memory, *_efficiency :
        the device (see :func:`~symcalc.serving.roofline`)

    Examples
    --------
    >>> from symcalc import Model
    >>> est = serving(Model.preset("llama-3-8b"), prompt_len=2048, n_generate=128, batch=8, hardware="h100")
    >>> print(est)
    time to first token    240.4 ms (prefill, compute-bound)
    time per output token  5.154 ms (decode at context 2111, memory-bound)
    throughput             1.552 Ktokens/s (batch 8 / TPOT)
    latency                894.9 ms (TTFT + 127 x TPOT)
    KV cache               2.12 GiB per device
    memory                 19.65 GiB per device of 79.65 GiB
    max batch              110 sequences (closed-form)
    """
    from ..inputs import as_size as _size
    from ..solve._serving import max_serving_batch

    model = as_model("model", model)
    s, n, b = _size("prompt_len", prompt_len), _size("n_generate", n_generate), _size("batch", batch)
    t, p = _size("tp", tp), _size("pp", pp)
    if p != 1:
        from ..errors import SymcalcError

        raise SymcalcError(f"pp={p}: serving times are modelled for tensor parallelism alone; use pp=1 "
                           "(symcalc.solve.min_serving_devices sizes pipelines for memory)")
    flash_attention = as_bool("flash_attention", flash_attention)
    dev = _device(None, hardware, dtype, dict(
        peak_flops=peak_flops, mem_bandwidth=mem_bandwidth, bandwidth_scaleup=bandwidth_scaleup, memory=memory,
        compute_efficiency=compute_efficiency, memory_efficiency=memory_efficiency, link_efficiency=link_efficiency))
    from ._roofline import _default

    weights, bytes_kv = _default("weight_dtype", weights), _default("kv_cache_dtype", bytes_kv)
    experts, causal = _default("experts_read", experts), _default("prefill_causal", causal)
    from ..memory.placement import as_storage

    storage = as_storage(storage)
    kw = dict(tp=t, weights=weights, storage=storage, bytes_kv=bytes_kv, bytes_act=bytes_act, experts=experts,
              device=dev)
    pre = prefill_step(model, prompt_len=s, batch=b, causal=causal, **kw)
    ctx = mean_context(s, n)
    dec = decode_step(model, context_len=S.context_len, batch=b, **kw).subs({S.context_len: ctx})
    dec = replace(dec, info={**dec.info, "context_len": ctx})
    mem_kw = dict(seq_len=s, n_generate=n, weights=weights, storage=storage, bytes_kv=bytes_kv, bytes_act=bytes_act,
                  flash_attention=flash_attention, prefill_batch=prefill_batch, tp=t)
    from ..memory import inference_memory

    mem = inference_memory(model, micro_batch=b, **mem_kw)
    numeric = not (model.free_symbols or s.free_symbols or n.free_symbols or t.free_symbols
                   or dev.memory.free_symbols or (prefill_batch is not None and _size("prefill_batch",
                                                                                     prefill_batch).free_symbols))
    best = None
    if numeric:
        best = max_serving_batch(dev.memory, model, **mem_kw)
    from ..defaults import resolve

    info = {"model": model.name or "custom", "hardware": dev.name, "dtype": resolve("dtype", dtype), "prompt_len": _int(s),
            "n_generate": _int(n), "batch": _int(b), "tp": _int(t), "decode_context": _int(ctx),
            "conventions": {
                "time": "roofline per operation: max(FLOPs / (peak x compute_efficiency), bytes / (bandwidth x "
                        "memory_efficiency)), summed, plus TP all-reduces / (scale-up link x link_efficiency); "
                        "a lower bound on time",
                "tpot": "decode step at the mean context s + (n - 2)/2",
                "experts": experts, "prefill_attention": "causal half" if causal else "full square",
                "memory": "weights + KV cache (s + n tokens) + one layer's prefill activations"
                          + (" (flash attention)" if flash_attention else "")}}
    return ServingEstimate(pre, dec, mem, b, n, best, info)


def _int(value: Expr) -> Any:
    if value.free_symbols:
        return str(value)
    return int(value) if value.is_integer else float(value)
