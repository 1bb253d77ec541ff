"""``symcalc scaling``: scaling-law answers from the catalogue of published fits."""

from __future__ import annotations

import argparse

from ..errors import SymcalcError
from ..inputs import parse_count, parse_number
from .common import default_help, parse_amount, print_json

JSON_KEYS = (
    "JSON (--json), one object: compute (FLOP), params, tokens, tokens_per_param, loss (nats/token, null when "
    "the fit predicts none), flops_per_param_token, fit {name, source}, exponents {params, tokens}; "
    "with --loss: target_loss; with --params: at_params {params, tokens, loss}; with --hardware: "
    "gpu_hours, days_on_one_device, mfu, hardware; with --inference-tokens: inference {params, tokens, "
    "tokens_per_param, training_compute, inference_compute, total_compute, chinchilla_params, "
    "chinchilla_total_compute, savings}; with --unique-tokens: data_constrained {params, tokens, epochs, "
    "effective_params, effective_tokens, loss, unconstrained_params, unconstrained_tokens, unconstrained_loss}; "
    "with --exact-flops: shape {six_n, exact, closed_form, difference}; with --list-fits: fits [{name, title, "
    "kind, source, constants}]; with --plot: plot (the file written)."
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scaling",
        help="scaling laws: compute-optimal N and D, loss targets, inference-aware and data-constrained optima",
        description=(
            "Scaling-law answers from published fits (--list-fits; default: Chinchilla approach 3 as printed, "
            "Hoffmann et al. 2022). Give --compute (what to train with C FLOPs) or --loss (what compute reaches "
            "a loss). Closed forms are derived symbolically from each fit; numbers are parsed exactly (1e24, "
            "5.76e23, 7B), never evaluated. " + JSON_KEYS
        ),
        epilog=("Examples: symcalc scaling --compute 5.76e23 --fit chinchilla-1 | symcalc scaling --list-fits | "
                "symcalc scaling --loss 2.0 --hardware h100 --mfu 40% | symcalc scaling --compute 1e23 "
                "--inference-tokens 10T | symcalc scaling --compute 1e22 --unique-tokens 25B | symcalc scaling "
                "--compute 1e22 --exact-flops -s 8192 | symcalc scaling --compute 1e24 --plot frontier.png"),
    )
    q = p.add_argument_group("question")
    q.add_argument("--compute", "-C", metavar="FLOP", help="training compute budget, e.g. 1e24")
    q.add_argument("--loss", metavar="NATS", help="target loss: the least compute that reaches it (and the allocation)")
    q.add_argument("--fit", default=None, metavar="NAME",
                   help="a fit of --list-fits (default chinchilla; muennighoff with --unique-tokens)")
    q.add_argument("--list-fits", action="store_true", help="list the fits with their sources and constants")
    q.add_argument("--flops-per-param-token", default=None, metavar="K",
                   help="k in C = k*N*D (default 6: Kaplan et al. 2020; DeepSeek's fit uses C = M*D)")
    q.add_argument("--params", metavar="N", help="also give the loss of this many parameters at the same compute")
    i = p.add_argument_group("inference-aware (Sardana et al. 2023)")
    i.add_argument("--inference-tokens", metavar="TOKENS",
                   help="lifetime tokens served: minimise training + inference compute at the loss of --loss "
                        "(or of the compute-optimal model at --compute)")
    i.add_argument("--inference-flops-per-param-token", metavar="K",
                   help="inference FLOPs per parameter per token ("
                        + default_help("inference_flops_per_param_token", "scaling") + ")")
    d = p.add_argument_group("data-constrained (Muennighoff et al. 2023)")
    d.add_argument("--unique-tokens", metavar="TOKENS", help="unique tokens available: the optimum with repetition")
    s = p.add_argument_group("frontier on exact FLOPs of a model shape (instead of 6N)")
    s.add_argument("--exact-flops", action="store_true",
                   help="optimise the hidden size h of a family (L = h/aspect, heads of --head-dim) on exact "
                        "training FLOPs per token (attention included) and on 6N, side by side")
    s.add_argument("--aspect-ratio", default="128", help="h/L of the family (default 128)")
    s.add_argument("--head-dim", default="128", help="head dimension (default 128)")
    s.add_argument("--vocab", default="32000", help="vocabulary (default 32000)")
    s.add_argument("--seq-len", "-s", default="2048", help="sequence length for the attention FLOPs (default 2048)")
    s.add_argument("--swiglu", action="store_true", help="gated MLP with f = 8h/3, exactly, not rounded (else f = 4h)")
    h = p.add_argument_group("GPU-hours (the hardware catalogue, `symcalc hardware`)")
    h.add_argument("--hardware", metavar="NAME", help="a catalogue device: GPU-hours for the compute")
    h.add_argument("--mfu", help="fraction of the peak sustained: 0.4 or 40%% ("
                   + default_help("mfu", "scaling", lambda v: f"{float(v):g}") + ")")
    h.add_argument("--dtype", help="which dense peak of --hardware (" + default_help("dtype", "scaling") + ")")
    o = p.add_argument_group("output")
    o.add_argument("--json", action="store_true", help="print one JSON object (keys above)")
    o.add_argument("--latex", action="store_true", help="print the law in the paper's notation (derived, named constants)")
    o.add_argument("--plot", metavar="FILE", help="write loss contours with the frontier (needs symcalc[plot])")
    p.set_defaults(func=run)


def _number(text: str, flag: str):
    return parse_amount(text, flag, lambda t: parse_number(t, flag))


def _count(text: str, flag: str):
    return parse_amount(text, flag, lambda t: parse_count(t, flag))


def run(args: argparse.Namespace) -> int:
    from ..scaling import (FITS, compute_cost, compute_for_loss, compute_optimal, data_constrained_optimal,
                           frontier_exponents, get_fit, inference_optimal, law_latex)
    from .._scalefmt import CHINCHILLA_NOTE, at_params_line, hardware_line, heading, list_fits_text
    from ..scaling.result import nearest_float

    if args.list_fits:
        fits = [f.describe() for f in FITS.values()]
        if args.json:
            print_json({"fits": fits, "default": "chinchilla"})
            return 0
        print(list_fits_text([(f["name"], f["title"], f["constants"], f["source"], fit.example)
                              for f, fit in zip(fits, FITS.values())]))
        return 0
    if (args.compute is None) == (args.loss is None):
        raise SymcalcError("give --compute FLOP or --loss NATS (one of them); --list-fits lists the fits")
    fit_name = args.fit or ("muennighoff" if args.unique_tokens is not None else "chinchilla")
    fit = get_fit(fit_name)
    if args.exact_flops and args.flops_per_param_token is not None:
        raise SymcalcError("--flops-per-param-token with --exact-flops: the shape frontier puts Kaplan's 6N beside "
                           "exact FLOPs per token (attention included); drop one of the two")
    k = None if args.flops_per_param_token is None else _number(args.flops_per_param_token, "--flops-per-param-token")
    if args.loss is not None:
        target = _number(args.loss, "--loss")
        opt = compute_for_loss(target, fit, flops_per_param_token=k)
    else:
        opt = compute_optimal(_number(args.compute, "--compute"), fit, flops_per_param_token=k)
    a, b = frontier_exponents(fit)
    # Floats of the closed forms cost evalf (deep powers of big rationals): build only the output asked for.
    as_json, as_text = bool(args.json), not args.json and not args.latex
    out = opt.to_json() if as_json else {}
    if as_json:
        out["exponents"] = {"params": nearest_float(a), "tokens": nearest_float(b)}
    lines = [str(opt)] if as_text else []
    if args.loss is not None and as_json:
        out["target_loss"] = nearest_float(target)
    if args.params is not None:
        if fit.kind != "parametric":
            raise SymcalcError(f"--params needs a fit with a loss L(N, D); {fit.name} is an allocation law")
        n = _count(args.params, "--params")
        d = opt.compute / (opt.flops_per_param_token * n)
        loss = fit.loss(n, d)  # numbers stay unevaluated powers (ParametricFit.loss)
        n, d, loss = nearest_float(n), nearest_float(d), nearest_float(loss)
        if as_json:
            out["at_params"] = {"params": n, "tokens": d, "loss": loss}
        if as_text:
            lines.append(at_params_line(n, d, loss))
    if args.hardware is not None:
        cost = compute_cost(opt.compute, args.hardware, mfu=args.mfu, dtype=args.dtype)
        if as_json:
            out.update(gpu_hours=nearest_float(cost.gpu_hours), days_on_one_device=nearest_float(cost.days),
                       mfu=nearest_float(cost.mfu), hardware=cost.info["hardware"])
        if as_text:
            lines.append(hardware_line(cost.info["hardware"], nearest_float(cost.mfu), nearest_float(cost.gpu_hours)))
    if args.inference_tokens is not None:
        d_inf = parse_amount(args.inference_tokens, "--inference-tokens", lambda t: parse_count(t, "--inference-tokens"),
                             positive=False)
        k_inf = (None if args.inference_flops_per_param_token is None else
                 _number(args.inference_flops_per_param_token, "--inference-flops-per-param-token"))
        inf = inference_optimal(d_inf, fit=fit, inference_flops_per_param_token=k_inf,
                                flops_per_param_token=opt.flops_per_param_token,
                                **({"loss": opt.loss} if args.loss is not None else {"compute": opt.compute}))
        if as_json:
            out["inference"] = {key: v for key, v in inf.to_json().items() if key not in ("fit",)}
        if as_text:
            lines.append(str(inf))
    if args.unique_tokens is not None:
        if args.loss is not None:
            raise SymcalcError("--unique-tokens answers for a --compute budget; give --compute instead of --loss")
        u = _count(args.unique_tokens, "--unique-tokens")
        dc = data_constrained_optimal(opt.compute, u, fit, flops_per_param_token=opt.flops_per_param_token)
        if as_json:
            out["data_constrained"] = {key: v for key, v in dc.to_json().items() if key not in ("fit", "compute")}
        if as_text:
            lines.append(str(dc))
    if args.exact_flops:
        sf = _shape(args, opt.compute, fit)
        if as_json:
            out["shape"] = sf.to_json()
        if as_text:
            lines.append(str(sf))
    if args.plot is not None:
        from ..plot import save_figure, scaling_figure

        out["plot"] = save_figure(scaling_figure(fit, opt.compute), args.plot)
        lines.append(f"  plot written to {args.plot}")
    if args.json:
        print_json(out)
        return 0
    if args.latex:
        print(law_latex(fit, opt.flops_per_param_token))
        return 0
    print(heading(fit.title, fit.source))
    if fit.name == "chinchilla":
        print(CHINCHILLA_NOTE)
    print("\n".join(lines))
    return 0


def _shape(args: argparse.Namespace, compute, fit):
    from sympy import Rational

    from ..model import Model
    from ..scaling import shape_frontier
    from ..symbols import d_model as h

    aspect = _count(args.aspect_ratio, "--aspect-ratio")
    d_head = _count(args.head_dim, "--head-dim")
    vocab = _count(args.vocab, "--vocab")
    seq = _count(args.seq_len, "--seq-len")
    step = aspect * d_head / __import__("math").gcd(int(aspect), int(d_head))
    if args.swiglu:
        d_ff = Rational(8, 3) * h
        family = Model(n_layers=h / aspect, d_model=h, n_heads=h / d_head, n_kv_heads=h / d_head, d_ff=d_ff,
                       vocab=vocab, gated_mlp=True, norm="rmsnorm")
        step = step * 3 / __import__("math").gcd(int(step), 3)
    else:
        family = Model(n_layers=h / aspect, d_model=h, n_heads=h / d_head, n_kv_heads=h / d_head, d_ff=4 * h, vocab=vocab)
    return shape_frontier(compute, family, h, seq_len=seq, fit=fit, multiple_of=int(step), hi=2**17)
