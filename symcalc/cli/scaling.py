"""``symcalc scaling``: Chinchilla's compute-optimal model size and tokens for a compute budget."""

from __future__ import annotations

import argparse

from ..display import latex_number, readable, significant
from ..render import frontier_latex
from ..scaling import CHINCHILLA, chinchilla_loss, compute_optimal, frontier_exponents
from ..solve import parse_count, parse_number
from .common import parse_amount, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scaling",
        help="compute-optimal parameters and tokens (Chinchilla fit)",
        description=(
            "Compute-optimal N and D minimising Chinchilla's approach-3 loss L = E + A/N^alpha + B/D^beta "
            "(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28; Hoffmann et al. 2022) on C = 6ND, "
            "in closed form. Numbers are parsed exactly (1e24, 5.76e23), never evaluated."
        ),
        epilog="Examples: symcalc scaling --compute 1e24 | symcalc scaling --compute 5.76e23 --json",
    )
    p.add_argument("--compute", "-C", required=True, metavar="FLOP", help="training compute budget, e.g. 1e24")
    p.add_argument("--flops-per-param-token", default="6", metavar="K",
                   help="k in C = k*N*D (default 6: Kaplan et al. 2020)")
    p.add_argument("--params", metavar="N", help="also give the loss of this many parameters at the same compute")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--latex", action="store_true", help="print the closed forms N_opt(C), D_opt(C) in LaTeX")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    C = parse_amount(args.compute, "--compute", lambda t: parse_number(t, "--compute"))
    k = parse_amount(args.flops_per_param_token, "--flops-per-param-token",
                     lambda t: parse_number(t, "--flops-per-param-token"))
    opt = compute_optimal(C, flops_per_param_token=k)
    a, b = frontier_exponents()
    out = opt.to_json()
    out["exponents"] = {"params": float(a), "tokens": float(b)}
    out["fit"] = {"E": float(CHINCHILLA.E), "A": float(CHINCHILLA.A), "B": float(CHINCHILLA.B),
                  "alpha": float(CHINCHILLA.alpha), "beta": float(CHINCHILLA.beta),
                  "source": "Hoffmann et al. 2022, approach 3"}
    if args.params is not None:
        n = parse_amount(args.params, "--params", lambda t: parse_count(t, "--params"))
        out["at_params"] = {"params": float(n), "tokens": float(C / (k * n)), "loss": float(chinchilla_loss(n, C / (k * n)))}
    if args.json:
        print_json(out)
        return 0
    if args.latex:  # one formula per line: the frontier with named constants, then this budget's values
        for line in frontier_latex(compute_optimal(flops_per_param_token=k), CHINCHILLA):
            print(line)
        c = latex_number(C, "FLOP").replace(r"\ \mathrm{FLOP}", "")
        print(rf"N_{{\mathrm{{opt}}}}({c}) \approx {latex_number(opt.n_params, 'params')}")
        print(rf"D_{{\mathrm{{opt}}}}({c}) \approx {latex_number(opt.tokens, 'tokens')}")
        return 0
    print(f"symcalc scaling: compute-optimal allocation of C = {readable(C, 'FLOP')} "
          f"(C = {k}·N·D, Chinchilla approach-3 fit)")
    print(f"  parameters N_opt  ≈ {opt.n_params}   (∝ C^{float(a):.4f})")
    print(f"  tokens D_opt      ≈ {opt.tokens}   (∝ C^{float(b):.4f})")
    print(f"  tokens per param  ≈ {significant(opt.tokens_per_param)}")
    print(f"  predicted loss    ≈ {significant(opt.loss, 4)} nats/token")
    if args.params is not None:
        at = out["at_params"]
        print(f"  at N = {readable(n, 'params')}: D ≈ {significant(at['tokens'])} tokens, loss ≈ {significant(at['loss'], 4)}")
    return 0
