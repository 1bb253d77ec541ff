"""Activation memory: the bytes a training forward saves for backward, per device.

Two profiles name every saved tensor of one transformer layer:

``"korthikanti"`` (the default profile)
    Korthikanti et al. 2022, Section 4 and Table 2, generalised: any activation precision
    ``β_a`` (the paper's 2), 1-byte dropout masks, GQA (K and V are ``g·d_h`` wide instead of h),
    any MLP width f (the paper's 4h) and gated MLPs (four f-wide tensors: gate output, up output,
    activation output, product, instead of two), one or two norms per layer, flash attention (the
    ``a·s²`` terms replaced by fp32 softmax statistics, 4 bytes per query row and head). For the
    paper's GPT (MHA, f = 4h, LayerNorm, 2 bytes, dropout on) it reduces exactly to Table 2:

    ====================  ====================================
    no parallelism        ``s b h (34 + 5 a s / h)``
    tensor parallel       ``s b h (10 + 24/t + 5 a s / (h t))``
    + sequence parallel   ``s b h / t (34 + 5 a s / h)``
    selective recompute   ``s b h · 34 / t`` (with TP + SP)
    full recompute        ``2 s b h`` (the layer input only)
    ====================  ====================================

``"hf-eager"``
    What Hugging Face transformers' eager PyTorch modules actually save (measured with
    ``saved_tensors_hooks``; the conformance tests hold it to 2%): RMSNorm keeps an fp32 copy of
    its input, its fp32 ``rstd`` and the cast normalised tensor; LayerNorm its input and fp32
    mean/rstd (fp32 on CUDA; CPU keeps them in the input dtype); ``repeat_kv`` copies K and V to
    all a heads; the softmax is saved in fp32 plus a cast copy (``softmax_fp32``, from the model's
    family: GPT-2 and Falcon compute it in the activation dtype); GPT-2's ``gelu_new`` (our
    ``"gelu_tanh"``) is composite and saves three more f-wide tensors; ReLU saves its output
    instead of its input. Dropout applies where the model's config has a rate above 0
    (:class:`~symcalc.dropout.Dropout`), as CUDA's fused ``native_dropout`` does it: a 1-byte mask
    per element (CPU's ``dropout`` keeps a full-width mask instead). On the attention probabilities
    the matmul with V then saves the dropped probabilities, and the softmax's cast copy is freed;
    held to 2% (0.5% today) for GPT-2, GPT-NeoX and Llama, fp32 and bf16, dropout off and on. qk-norms and MLA's latent norms save what the hidden-state
    RMSNorm saves (fp32 input copy, rstd per row, the normalised tensor); held to 2% for Qwen3 and
    a DeepSeek-V2 MLA layer in fp32 and bf16, OLMo-2 and Gemma-3 in fp32 (in bf16 they multiply the
    norm weight in fp32, 10-14% more than the profile). MoE layers are not measured.

Settings left at ``None`` (profile, recompute, flash attention, dropout, sequence parallelism,
bytes per activation) take the active defaults of :mod:`symcalc.defaults`: today flash attention
(the output and the fp32 logsumexp per head and row kept instead of the s² scores; FlashAttention-2
Alg. 1-2), dropout only where the model has it, sequence parallelism with t > 1, the recipe's 2-byte
activations; ``--cookbook``/``defaults.using("cookbook")`` gives the paper's eager attention with
dropout.

Conventions: ``x = (s/c)·b`` tokens per device (context parallelism splits the queries; keys
stay ``s`` long). Tensor parallelism divides what lives inside the TP region (per-head and
f-wide tensors; K/V down to one head per device, see :func:`~symcalc.memory.parallel.local_kv_heads`);
sequence parallelism also divides the h-wide norm, residual-dropout and layer-input tensors.
With pipeline parallelism under 1F1B the first stage holds ``p`` micro-batches of ``L/p``
layers, i.e. ``L`` layers' worth, whatever p (Korthikanti Section 4.2.3); interleaving and
fewer micro-batches than stages are not modelled. MoE layers count ``top_k`` experts' f-wide
tensors per token (plus shared experts), evenly spread over the expert-parallel ranks. The
attention tensors come from the attention kind (:mod:`symcalc.structure.attention`): MLA saves
per-head Q, K (``d_n + d_r`` wide) and V (``d_v``), and its two latents (inputs of the
up-projections and of their RMSNorms, replicated under TP); qk-norm saves its inputs. A windowed
layer saves the same as a full one (eager attention materialises the whole masked square; flash
attention's statistics do not depend on the window). MTP modules add one layer each, their
projection input and their fp32 logits.
"""

from __future__ import annotations

from typing import Any, Optional

from sympy import Eq, Expr, Integer, Piecewise

from .. import symbols as S
from ..breakdown import Breakdown
from ..errors import SymcalcError
from ..inputs import as_amount, as_bool, as_choice, as_model, as_size
from .parallel import local_kv_heads

__all__ = ["PROFILES", "RECOMPUTE", "layer_activations", "activations", "resolve_softmax_fp32"]

#: Activation profiles: ``korthikanti`` (Korthikanti et al. 2022 Table 2, generalised) and ``hf-eager`` (what transformers' eager modules save).
PROFILES = ("korthikanti", "hf-eager")
#: Activation recomputation policies: none, selective (the attention core, Korthikanti et al. 2022), full.
RECOMPUTE = ("none", "selective", "full")
#: Parts that selective recompute (Megatron's core-attention recompute) drops.
CORE_ATTENTION = ("attention/scores", "attention/scores_cast", "attention/dropout_mask",
                  "attention/dropout_output", "attention/softmax_stats")


def _query_tokens(seq_len: Any, cp: Any, tp: Any, sequence_parallel: bool) -> Expr:
    """``s/c``, the queries per device; a one-line error when c (or t, with SP) does not split s.

    >>> _query_tokens(4096, 2, 1, False)
    2048
    >>> _query_tokens(2048, 3, 1, False)
    Traceback (most recent call last):
    ...
    symcalc.errors.SymcalcError: cp=3 does not divide seq_len=2048; context parallelism splits the sequence into cp equal chunks
    """
    s, c, t = as_size("seq_len", seq_len), as_size("cp", cp), as_size("tp", tp)
    if (s / c).is_integer is False:
        raise SymcalcError(f"cp={c} does not divide seq_len={s}; context parallelism splits the sequence into cp equal chunks")
    if sequence_parallel and (s / (c * t)).is_integer is False:
        raise SymcalcError(f"tp={t} does not divide the {s / c} tokens per context-parallel rank; sequence parallelism "
                           "splits them over the tensor-parallel group (Megatron asserts seq_len % tp == 0)")
    return s / c


def _check(profile: str, recompute: str, **flags: Any) -> None:
    as_choice("profile", profile, PROFILES)
    as_choice("recompute", recompute, RECOMPUTE)
    for name, value in flags.items():
        as_bool(name, value)


def resolved_settings(model, *, profile: Any = None, recompute: Any = None, flash_attention: Any = None,
                      dropout: Any = None, sequence_parallel: Any = None, bytes_act: Any = None) -> dict[str, Any]:
    """The activation settings with each ``None`` replaced by the active default (:mod:`symcalc.defaults`)."""
    from .. import defaults
    from .states import precision_recipe

    profile = defaults.resolve("activation_profile", profile)
    if flash_attention is None and profile == "hf-eager":
        flash_attention = False  # Hugging Face's eager attention materialises the scores by definition
    return dict(
        profile=profile, recompute=defaults.resolve("recompute", recompute),
        flash_attention=defaults.resolve("flash_attention", flash_attention),
        dropout=defaults.dropout_for(model, dropout),
        sequence_parallel=defaults.resolve("sequence_parallel", sequence_parallel),
        bytes_act=precision_recipe(None).act if bytes_act is None else bytes_act)


def resolve_softmax_fp32(model, softmax_fp32: Any = None) -> bool:
    """hf-eager's softmax precision: ``None`` is the model family's (fp32 unless the model says otherwise).

    >>> from symcalc import Model
    >>> resolve_softmax_fp32(Model.preset("gpt2")), resolve_softmax_fp32(Model.preset("llama-2-7b"))
    (False, True)
    """
    if softmax_fp32 is None:
        model = as_model("model", model)
        return True if model.softmax_fp32 is None else model.softmax_fp32
    return as_bool("softmax_fp32", softmax_fp32)


def layer_activations(
    model,
    *,
    seq_len: Any = S.seq_len,
    micro_batch: Any = S.micro_batch,
    bytes_act: Any = None,
    tp: Any = 1,
    cp: Any = 1,
    sequence_parallel: Optional[bool] = None,
    recompute: Optional[str] = None,
    flash_attention: Optional[bool] = None,
    dropout: Any = None,
    profile: Optional[str] = None,
    softmax_fp32: Optional[bool] = None,
    moe_layer: bool = False,
    flow: Any = None,
    layer_frozen: bool = False,
    first_layer: bool = False,
) -> Breakdown:
    """Bytes one transformer layer saves for backward, per device, by tensor.

    .. math::

        A_{\\text{layer}} = s b h \\left(34 + \\frac{5 a s}{h}\\right)
        \\quad\\text{(Korthikanti Table 2, no parallelism)}

    Parameters
    ----------
    model : Model
    seq_len, micro_batch : expression
        Sequence length s [tokens] and micro-batch b [sequences].
    bytes_act : expression
        Bytes per activation value β_a (default: the precision recipe's, 2 for bf16 as in the paper).
    tp, cp : expression
        Tensor- and context-parallel degrees.
    sequence_parallel : bool
        Megatron sequence parallelism (cookbook ``--partition-activations``).
    recompute : "none", "selective" or "full"
    flash_attention : bool
    dropout : bool or :class:`~symcalc.dropout.Dropout`
        True/False: dropout everywhere/nowhere; a ``Dropout`` says where. None: the active default,
        today the model's own (:attr:`Model.dropout <symcalc.model.Model>`, from its config; none for a
        model that does not say), the cookbook's everywhere (:func:`symcalc.defaults.dropout_for`).
    profile : "korthikanti" or "hf-eager"
        Each ``None`` (the default) takes the active default of :mod:`symcalc.defaults`.
    softmax_fp32 : bool
        hf-eager only: the softmax is computed and saved in fp32 (Llama, GPT-NeoX, OPT, BLOOM) or in
        the activation dtype (GPT-2, Falcon); None: the model's family (:func:`resolve_softmax_fp32`).
    moe_layer : bool
        A mixture-of-experts layer (``top_k`` routed experts plus shared ones) instead of a dense MLP.
    flow : GradFlow, optional
        Frozen parts and an adapter (:func:`symcalc.finetune.flow.grad_flow`): a frozen linear's
        input is not kept for its gradient, an adapter keeps its own tensors.
    layer_frozen, first_layer : bool
        With ``flow``: every weight of this layer frozen (inside a frozen layer range); the first
        layer a gradient reaches, its input taking none.

    Examples
    --------
    >>> from symcalc import Model
    >>> from symcalc.symbols import seq_len as s, micro_batch as b, d_model as h, n_heads as a
    >>> gpt = Model(n_kv_heads=a, d_ff=4 * h)
    >>> layer_activations(gpt, flash_attention=False, dropout=True).total.factor()   # the paper's eager GPT
    micro_batch*seq_len*(34*d_model + 5*n_heads*seq_len)
    >>> layer_activations(gpt).total.factor()   # today: flash attention (fp32 logsumexp), no dropout
    4*micro_batch*seq_len*(8*d_model + n_heads)

    References
    ----------
    Korthikanti et al. 2022, "Reducing Activation Recomputation in Large Transformer Models",
    Section 4.1 (equations 1-2) and Table 2.
    """
    m = as_model("model", model)
    st = resolved_settings(m, profile=profile, recompute=recompute, flash_attention=flash_attention, dropout=dropout,
                           sequence_parallel=sequence_parallel, bytes_act=bytes_act)
    profile, recompute, flash_attention, drop = st["profile"], st["recompute"], st["flash_attention"], st["dropout"]
    sequence_parallel, bytes_act = st["sequence_parallel"], st["bytes_act"]
    flow = None if flow is None else _as_flow(flow)
    layer_frozen, first_layer = as_bool("layer_frozen", layer_frozen), as_bool("first_layer", first_layer)
    _check(profile, recompute, sequence_parallel=sequence_parallel, flash_attention=flash_attention,
           moe_layer=moe_layer)
    softmax_fp32 = resolve_softmax_fp32(m, softmax_fp32)
    beta = as_amount("bytes_act", bytes_act)
    t = as_size("tp", tp)
    micro_batch = as_size("micro_batch", micro_batch)
    s_q, s_k = _query_tokens(seq_len, cp, tp, sequence_parallel), as_size("seq_len", seq_len)
    x = s_q * micro_batch
    h = m.d_model
    sp = t if sequence_parallel else Integer(1)
    a_l = m.n_heads / t
    g_l = local_kv_heads(m, t)
    one_norm = m.parallel_block and m.norms_per_layer == 1
    n_norm_inputs = 1 if m.parallel_block else m.norms_per_layer

    if recompute == "full":
        return Breakdown({"layer_input": beta * x * h / sp}, unit="bytes", title="activations per layer")

    parts: dict[str, Expr] = {}
    hf = profile == "hf-eager"
    # --- norms: what the norm itself saves
    if hf:
        if m.norm == "rmsnorm":
            # In fp32 the "copy" is the input itself, shared by the norms that read the same input.
            copies = Piecewise((n_norm_inputs, Eq(beta, 4)), (m.norms_per_layer, True))
            parts["norm/input_fp32"] = 4 * x * h * copies / sp
            parts["norm/rstd"] = 4 * x * m.norms_per_layer / sp
            parts["norm/normalized"] = beta * x * h * m.norms_per_layer / sp
        else:
            parts["norm/inputs"] = beta * x * h * n_norm_inputs / sp
            parts["norm/stats"] = 2 * 4 * x * m.norms_per_layer / sp
    else:
        parts["norm/inputs"] = beta * x * h * n_norm_inputs / sp
    # --- attention: the kind's tensors (q, k, v, the output projection's input, qk-norm or latent inputs)
    parts["attention/qkv_input"] = beta * x * h / sp
    kv_heads = a_l if hf else g_l  # HF's repeat_kv copies K and V to all query heads
    widths = m.attention._activation_widths(m, t, kv_heads)
    for name in ("attention/q", "attention/k", "attention/qk_norm_inputs", "attention/latent",
                 "attention/latent_norm_inputs"):
        if name in widths:
            parts[name] = beta * x * widths[name]
    if hf and "attention/qk_norm_inputs" in parts:
        # transformers' RMSNorm on q and k, as on the hidden state: an fp32 copy of its input, fp32
        # rstd per normalised row (a head, or all of Q / all of K), and the normalised tensor the
        # weight multiplies (none for Llama-4's weightless L2 norm)
        qk = widths["attention/qk_norm_inputs"]
        rows = 2 if m.attention.qk_norm == "full" else qk / m.d_head
        del parts["attention/qk_norm_inputs"]
        parts["attention/qk_norm_fp32"] = 4 * x * qk
        parts["attention/qk_norm_rstd"] = 4 * x * rows
        if m.attention.qk_norm != "weightless":
            parts["attention/qk_norm_normalized"] = beta * x * qk
    if hf and "attention/latent_norm_inputs" in parts:
        # MLA's two latent RMSNorms (q_a, kv_a), saved as transformers' RMSNorm saves: fp32 input copy,
        # rstd per latent, the normalised tensor the weight multiplies
        lat = widths["attention/latent_norm_inputs"]
        del parts["attention/latent_norm_inputs"]
        parts["attention/latent_norm_fp32"] = 4 * x * lat
        parts["attention/latent_norm_rstd"] = 4 * x * (2 if m.attention.q_lora_rank is not None else 1)
        parts["attention/latent_norm_normalized"] = beta * x * lat
    scores = a_l * s_q * s_k * micro_batch
    if flash_attention:
        parts["attention/softmax_stats"] = 4 * a_l * x
    else:
        if hf and softmax_fp32:
            parts["attention/scores"] = 4 * scores
            # The cast back to β_a is what the matmul with V saves (none when β_a is 4: the same
            # tensor); with dropout the matmul saves the dropped probabilities instead, and the
            # cast copy, which dropout does not need for its backward, is freed.
            cast = Piecewise((0, Eq(beta, 4)), (beta * scores, True))
            if not drop.attention and cast != 0:
                parts["attention/scores_cast"] = cast
        else:
            parts["attention/scores"] = beta * scores
        if drop.attention:
            parts["attention/dropout_mask"] = scores
            parts["attention/dropout_output"] = beta * scores
    parts["attention/v"] = beta * x * widths["attention/v"]
    parts["attention/out_input"] = beta * x * widths["attention/out_input"]
    if drop.attention_residual:
        parts["attention/dropout_mask_out"] = x * h / sp
    # --- MLP (dense, or top_k routed experts plus shared experts)
    if moe_layer:
        f = (m.top_k * m.d_ff_expert + m.n_shared_experts * m.d_ff_shared) / t
    else:
        f = m.d_ff / t
    if not one_norm:
        parts["mlp/input"] = beta * x * h / sp
    if m.activation != "relu":
        parts["mlp/act_input"] = beta * x * f
    if hf and m.activation == "gelu_tanh":
        parts["mlp/act_internal"] = 3 * beta * x * f  # gelu_new: 0.5·x, tanh(...), 1 + tanh(...)
    if m.gated_mlp:
        parts["mlp/up_output"] = beta * x * f
        parts["mlp/act_output"] = beta * x * f
    parts["mlp/down_input"] = beta * x * f
    if drop.mlp_residual:
        parts["mlp/dropout_mask"] = x * h / sp

    if flow is not None:
        parts = flow.adjust(parts, m, x=x, beta=beta, t=t, moe_layer=moe_layer, hf=hf, layer_frozen=layer_frozen,
                            first_layer=first_layer, sp=sp)
    if recompute == "selective":
        parts = {k: v for k, v in parts.items() if k not in CORE_ATTENTION}
    return Breakdown(parts, unit="bytes", title="activations per layer")


def _as_flow(flow: Any):
    from ..finetune.flow import GradFlow

    if not isinstance(flow, GradFlow):
        raise SymcalcError(f"flow={flow!r:.60} is not a GradFlow; use symcalc.finetune.flow.grad_flow(model, ...)")
    return flow


def activations(
    model,
    *,
    seq_len: Any = S.seq_len,
    micro_batch: Any = S.micro_batch,
    bytes_act: Any = None,
    tp: Any = 1,
    pp: Any = 1,
    cp: Any = 1,
    sequence_parallel: Optional[bool] = None,
    recompute: Optional[str] = None,
    flash_attention: Optional[bool] = None,
    dropout: Any = None,
    profile: Optional[str] = None,
    softmax_fp32: Optional[bool] = None,
    output: bool = True,
    flow: Any = None,
) -> Breakdown:
    """Activation bytes on the most loaded device: all layers' in-flight activations plus the ends.

    .. math::

        A = L \\cdot A_{\\text{layer}} + A_{\\text{embedding}} + A_{\\text{output}}

    Parts: ``layers`` (L layers' worth: ``L/p`` layers times ``p`` micro-batches under 1F1B;
    dense and MoE layers counted separately as ``layers/dense``, ``layers/moe``), the embedding
    dropout mask (``p`` micro-batches in flight), and ``output/*``: the final norm and LM-head
    inputs and the fp32 logits the cross-entropy keeps (``4·s·b·v/t``; Korthikanti Section 4.3),
    plus, for hf-eager, the int64 token ids and labels. See :func:`layer_activations` for the
    arguments; ``output=False`` leaves out the output layer (inference). ``flow``
    (:func:`symcalc.finetune.flow.grad_flow`) applies frozen parts and adapters: frozen weights
    drop the inputs kept only for their gradient, adapters add theirs, leading layers no gradient
    reaches save nothing.
    """
    st = resolved_settings(as_model("model", model), profile=profile, recompute=recompute,
                           flash_attention=flash_attention, dropout=dropout, sequence_parallel=sequence_parallel,
                           bytes_act=bytes_act)
    profile, recompute, flash_attention, dropout = st["profile"], st["recompute"], st["flash_attention"], st["dropout"]
    sequence_parallel, bytes_act = st["sequence_parallel"], st["bytes_act"]
    _check(profile, recompute, sequence_parallel=sequence_parallel, flash_attention=flash_attention, output=output)
    softmax_fp32 = resolve_softmax_fp32(as_model("model", model), softmax_fp32)
    seq_len, micro_batch = as_size("seq_len", seq_len), as_size("micro_batch", micro_batch)
    bytes_act, tp, pp, cp = as_amount("bytes_act", bytes_act), as_size("tp", tp), as_size("pp", pp), as_size("cp", cp)
    kw = dict(seq_len=seq_len, micro_batch=micro_batch, bytes_act=bytes_act, tp=tp, cp=cp,
              sequence_parallel=sequence_parallel, recompute=recompute, flash_attention=flash_attention,
              dropout=dropout, profile=profile, softmax_fp32=softmax_fp32)
    m = as_model("model", model)
    flow = None if flow is None else _as_flow(flow)
    from ..finetune.flow import first_live_layer

    first, first_exists = (None, 0) if flow is None else first_live_layer(m, flow)
    parts: dict[str, Expr] = {}
    for key, n, moe in (("layers/dense", m.n_dense_layers, False), ("layers/moe", m.n_moe_layers, True)):
        if n == 0 or (moe and not m.is_moe):
            continue
        if flow is None:
            parts[key] = n * layer_activations(m, moe_layer=moe, **kw).total
            continue
        frozen, dead = flow.frozen_layers[moe], flow.dead_layers[moe]
        special = first_exists if first is moe else 0
        value = (n - frozen - dead - special) * layer_activations(m, moe_layer=moe, flow=flow, **kw).total
        if special != 0:
            value += special * layer_activations(m, moe_layer=moe, flow=flow, first_layer=True, **kw).total
        if frozen != 0:
            value += frozen * layer_activations(m, moe_layer=moe, flow=flow, layer_frozen=True, **kw).total
        parts[key] = value
    if m.mtp is not None:
        # each MTP module: one layer (MoE when the model is), its eh_proj input (2h) and its fp32 logits
        layer = layer_activations(m, moe_layer=m.is_moe, **kw).total
        parts["mtp/layers"] = m.mtp.n_modules * layer
    beta, t = bytes_act, tp
    sp = t if sequence_parallel else Integer(1)
    x = _query_tokens(seq_len, cp, tp, sequence_parallel) * micro_batch
    h = m.d_model
    if profile == "hf-eager":
        parts["embedding/token_ids"] = 8 * x
    if dropout.embedding:
        parts["embedding/dropout_mask"] = pp * x * h / sp
    if output:
        if profile == "hf-eager" and m.norm == "rmsnorm":
            parts["output/final_norm"] = ((4 + beta) * x * h + 4 * x) / sp
        elif profile == "hf-eager":
            parts["output/final_norm"] = (beta * x * h + 8 * x) / sp
        else:
            parts["output/final_norm"] = beta * x * h / sp
        parts["output/head_input"] = beta * x * h / sp
        parts["output/logits"] = 4 * x * m.padded_vocab / t
        if profile == "hf-eager":
            parts["output/labels"] = 8 * x
        if m.mtp is not None:
            n = m.mtp.n_modules
            parts["mtp/projection_input"] = n * beta * x * 2 * h / sp
            parts["mtp/logits"] = n * 4 * x * m.padded_vocab / t
    if flow is not None:
        parts = flow.adjust_output(parts, m, x=x, beta=beta, t=t, sp=sp, hf=profile == "hf-eager")
    return Breakdown(parts, unit="bytes", title="activations per device")
