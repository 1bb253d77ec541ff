"""The closed forms, derived by sympy once per process: Lagrangian, elimination, logarithms.

Nothing here is typed in: each optimum starts from the loss and the FLOPs constraint, the
multiplier is eliminated by sympy, and the first-order condition (a product of powers of
positive symbols) is solved by taking logarithms, where it is linear in log N. The results are
cached; the public functions substitute a fit's numbers into them (no ``sympy.solve`` per call).

>>> from symcalc.scaling.derive import frontier
>>> f = frontier()
>>> f["a"], f["b"]
(exp_tokens/(exp_params + exp_tokens), exp_params/(exp_params + exp_tokens))
>>> f["G"]
(exp_params*loss_coef_params/(exp_tokens*loss_coef_tokens))**(1/(exp_params + exp_tokens))
"""

from __future__ import annotations

from functools import lru_cache, wraps

from sympy.core.parameters import evaluate

from sympy import Add, Dummy, Expr, Symbol, diff, exp, expand, expand_log, log, together, fraction

from .. import symbols as S

def derived(func):
    """Cache a derivation, and run it with sympy's evaluation on even inside ``evaluate(False)``.

    A derivation's result is also stored as generated code (:mod:`symcalc.scaling._derived`, written
    by :func:`write_derived`; ``tests/test_scaling_derived.py`` re-derives every one and checks the
    stored copy is current): a process builds the stored expressions instead of deriving them again
    (the derivations take a few hundred ms, most of ``symcalc scaling``'s run). ``func.derive`` runs
    the derivation itself.
    """
    name = f"{func.__module__}.{func.__qualname__}"

    def derive(*args):
        with evaluate(True):
            return func(*args)

    @lru_cache(maxsize=None)
    def cached(*args):
        if not args and _STORED[0]:
            from . import _derived

            stored = _derived.FORMS.get(name)
            if stored is not None:
                with evaluate(True):
                    return stored()
        return derive(*args)

    @wraps(func)
    def wrapper(*args):
        return cached(*args) if _STORED[0] else derive(*args)

    wrapper.derive = derive
    wrapper.derived_name = name
    wrapper.cache_clear = cached.cache_clear
    _DERIVATIONS.append(wrapper)
    return wrapper


#: Every function decorated with :func:`derived` (the generator stores those taking no arguments).
_DERIVATIONS: list = []
#: False while generating or checking the stored forms: every derivation (and those it calls) runs afresh.
_STORED = [True]


def derived_source() -> str:
    """The source of :mod:`symcalc.scaling._derived`: each derivation's result as sympy constructor calls."""
    from sympy import srepr

    from . import data, laws  # noqa: F401 (their derivations register on import)

    lines = ['"""Closed forms of symcalc.scaling, generated from the derivations by symcalc.scaling.derive.write_derived.',
             "",
             "Do not edit: ``python -c 'from symcalc.scaling.derive import write_derived; write_derived()'`` rewrites it,",
             "and tests/test_scaling_derived.py checks that it is current (each entry equal to its derivation).",
             '"""',
             "# flake8: noqa",
             "from sympy import Add, Integer, Mul, Pow, Rational, Symbol, log, exp",
             "",
             "FORMS = {}",
             ""]
    _STORED[0] = False
    try:
        forms = {fn.derived_name: fn.derive() for fn in _DERIVATIONS}
    finally:
        _STORED[0] = True
    for name in sorted(forms):
        fn = next(f for f in _DERIVATIONS if f.derived_name == name)
        code = srepr(forms[name])
        lines += ["", f"def _{fn.derived_name.replace('.', '_')}():", f"    return {code}", "",
                  f"FORMS[{fn.derived_name!r}] = _{fn.derived_name.replace('.', '_')}", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_derived() -> str:
    """Write :mod:`symcalc.scaling._derived` from the derivations; returns its path."""
    import os

    path = os.path.join(os.path.dirname(__file__), "_derived.py")
    source = derived_source()
    with open(path, "w", encoding="utf-8") as f:
        f.write(source)
    return path


__all__ = ["derived", "derived_source", "write_derived", "frontier", "inverse_frontier", "inference_condition", "solve_log_linear", "tidy_exp"]

E, A, B, ALPHA, BETA = (S.loss_irreducible, S.loss_coef_params, S.loss_coef_tokens, S.exp_params, S.exp_tokens)
K, C = S.flops_per_param_token, S.compute
#: Free variables of the derivations (positive reals; the results are re-expressed in S.n_params, S.tokens).
_N = Symbol("N", positive=True)
_D = Symbol("D", positive=True)
_LAMBDA = Symbol("lambda", positive=True)


def tidy_exp(exponent: Expr) -> Expr:
    """``exp(Σ c_i log x_i)`` as ``Π (Π x_i^{±1})^{c}``, powers with equal exponents grouped.

    >>> from sympy import symbols
    >>> x, y, p = symbols("x y p", positive=True)
    >>> tidy_exp(log(x) / p - log(y) / p + 2 * log(p))
    p**2*(x/y)**(1/p)
    """
    expr = expand(exponent)
    groups: dict[Expr, Expr] = {}
    rest = Add(*[t for t in Add.make_args(expr) if not t.has(log)])
    for lg in sorted(expr.atoms(log), key=str):
        coeff = together(expr.coeff(lg))
        base = lg.args[0]
        if coeff.could_extract_minus_sign():
            base, coeff = 1 / base, -coeff
        groups[coeff] = groups.get(coeff, 1) * base
    out = exp(expand(rest))
    for coeff, base in groups.items():
        out *= base**coeff
    return out


def solve_log_linear(lhs: Expr, rhs: Expr, unknown: Symbol) -> Expr:
    """Solve ``lhs = rhs`` for a positive ``unknown`` when both sides are products of powers.

    Taking logarithms makes the equation linear in ``log(unknown)``; the root is returned as a
    product of powers (:func:`tidy_exp`). Raises ``ValueError`` if the equation is not of that kind.

    >>> from sympy import symbols
    >>> x, c = symbols("x c", positive=True)
    >>> solve_log_linear(3 * x**2, c, x)
    sqrt(3)*sqrt(c)/3
    """
    t = Dummy("t")
    eq = expand(expand_log(log(lhs) - log(rhs), force=True)).subs(log(unknown), t)
    if unknown in eq.free_symbols or diff(eq, t, 2) != 0:
        raise ValueError(f"{lhs} = {rhs} is not linear in log({unknown})")
    slope = diff(eq, t)
    return tidy_exp(expand(-eq.subs(t, 0) / slope))


def _split(expr: Expr) -> tuple[Expr, Expr]:
    """``expr = 0`` with two monomial terms as ``positive = negative`` (each side one product)."""
    terms = Add.make_args(expand(expr))
    pos = [t for t in terms if not t.could_extract_minus_sign()]
    neg = [-t for t in terms if t.could_extract_minus_sign()]
    if len(pos) != 1 or len(neg) != 1:
        raise ValueError(f"{expr} = 0 is not one term against one")
    return pos[0], neg[0]


@derived
def frontier() -> dict[str, Expr]:
    """The efficient frontier of L = E + A/N^α + B/D^β on C = κ·N·D, in the fit's symbols.

    Lagrangian ℒ = L + λ(κND − C); N·∂ℒ/∂N − D·∂ℒ/∂D eliminates λ, leaving α A N^{−α} = β B D^{−β};
    with D = C/(κN) that is linear in log N. Returns N_opt, D_opt, the exponents a = β/(α+β),
    b = α/(α+β), G, the loss on the frontier E + K (C/κ)^{−γ} with K and γ = αβ/(α+β), and the
    first-order condition itself.
    """
    lagrangian = E + A * _N**-ALPHA + B * _D**-BETA + _LAMBDA * (K * _N * _D - C)
    foc = expand(_N * diff(lagrangian, _N) - _D * diff(lagrangian, _D))
    assert _LAMBDA not in foc.free_symbols  # the multiplier cancels: λκND on both sides
    lhs, rhs = _split(foc.subs(_D, C / (K * _N)))
    n_root = solve_log_linear(lhs, rhs, _N)
    log_n = expand(expand_log(log(n_root), force=True))
    a = log_n.coeff(log(C))
    G = tidy_exp(expand(log_n - a * (log(C) - log(K))))
    assert not G.free_symbols & {C, K}, G
    b = 1 - a
    b = b.together()
    n_opt = G * (C / K) ** a
    d_opt = G**-1 * (C / K) ** b
    # the loss on the frontier: both terms fall as (C/κ)^{-γ}
    term_n = A * G**-ALPHA
    term_d = B * G**BETA
    gamma = (ALPHA * a).together()
    assert expand(gamma - (BETA * b).together()) == 0
    return {
        "condition": foc,
        "n_params": n_opt, "tokens": d_opt, "G": G, "a": a, "b": b,
        "gamma": gamma, "K": term_n + term_d,
        "loss": E + (term_n + term_d) * (C / K) ** -gamma,
        "parametric_loss": E + A * S.n_params**-ALPHA + B * S.tokens**-BETA,
    }


@derived
def inverse_frontier() -> Expr:
    """C(𝓛): the compute at which the frontier reaches loss 𝓛 (solved from E + K (C/κ)^{−γ} = 𝓛)."""
    f = frontier()
    excess = Symbol("excess", positive=True)  # 𝓛 − E, positive where the target is reachable
    coef = Symbol("K", positive=True)  # the frontier's coefficient, opaque while solving
    root = solve_log_linear(coef * (C / K) ** -f["gamma"], excess, C)
    return root.subs({excess: S.loss - E, coef: f["K"]})


@derived
def inference_condition() -> dict[str, Expr]:
    """Sardana et al.'s lifetime-compute optimum at a fixed loss: the condition on D, derived.

    Minimise T = κ N D + κ_inf N D_inf on L(N, D) = 𝓛. Substituting N(D) from the constraint,
    N = (A / (𝓛 − E − B D^{−β}))^{1/α}, and setting d log T / dD = 0 gives F(D) = 0 with F
    returned here (numerator of the derivative, sign chosen so that F → +∞ as D → ∞).
    """
    kinf, dinf, ell = S.inference_flops_per_param_token, S.inference_tokens, S.loss
    n_of_d = (A / (ell - E - B * _D**-BETA)) ** (1 / ALPHA)
    total = n_of_d * (K * _D + kinf * dinf)
    slope = together(diff(expand_log(log(total), force=True), _D))
    numer, _ = fraction(slope)
    numer = expand(numer)
    # sign: F grows with the target loss 𝓛 (the D^{1+β} term), so F → +∞ as D → ∞
    if numer.coeff(ell).could_extract_minus_sign():
        numer = -numer
    return {"F": numer.subs(_D, S.tokens), "params_of_tokens": n_of_d.subs(_D, S.tokens),
            "total_compute": (S.n_params * (K * S.tokens + kinf * dinf))}
