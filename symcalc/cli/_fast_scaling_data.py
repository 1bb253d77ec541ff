"""``symcalc scaling --unique-tokens`` without sympy: the data-constrained optimum of Muennighoff et al. 2023.

The full path (:func:`symcalc.scaling.data.data_constrained_optimal`) has no closed form to print:
it splits the loss along the budget line C = κND into four regimes (D ≶ U, N ≶ U_N), scans each
regime's slope on a 64-step log grid between its bounds, bisects every sign change (mpmath, to
1e-35 relative), takes the least loss among those roots and the bounds, and keeps N as a 30-digit
Float. This module runs the same search on the same forms (generated from
:func:`~symcalc.scaling.data.regime_losses` into :mod:`symcalc._generated.scaling`) in 60-digit
decimals, each root to 1e-45, and prints the double nearest each value. The two searches make the
same decisions and their values agree to ~1e-30, so the printed doubles are the same, except where
a decision or a double is that close to a tie: there it falls back (``_Fallback``), so every answer
it prints is provably the full path's. The margins:

- every bound and grid point compares with the others and gives a slope sign at least 1e-30 away
  from a tie (relative), else the full path answers;
- the least loss beats every candidate at another N by more than 1e-30 (relative);
- each printed value lies further than 1e-25 (relative) from the midpoint between two doubles, and
  N, D further than 1e-25 from U_N and U (the branches of N' and D').
"""

from __future__ import annotations

import math
from decimal import Decimal

from ._fast_scaling import _dec, _Fallback

__all__ = ["data_constrained"]

#: Relative closeness below which a decision (a comparison, a slope's sign) is left to the full path.
TIE = Decimal(10) ** -30
#: Relative distance from a rounding midpoint between doubles below which a value is left to the full path.
MIDPOINT = Decimal(10) ** -25
ROOT_TOL = Decimal(10) ** -45
#: The float look: a slope's sign is trusted when |slope x| > SIGN, the least loss when the others are above it
#: by more than LOSS_TIE (relative); float errors are ~1e-15.
SIGN, LOSS_TIE = 1e-8, 1e-12


def _apart(x: Decimal, y: Decimal) -> None:
    """Fall back unless x and y differ by more than TIE relative (their order is then the full path's)."""
    if abs(x - y) <= TIE * max(abs(x), abs(y)):
        raise _Fallback


def nearest(x: Decimal) -> float:
    """The double nearest ``x``, when ``x`` is further than MIDPOINT (relative) from a tie between two doubles."""
    f = float(x)
    if not math.isfinite(f) or f == 0:
        raise _Fallback
    for other in (math.nextafter(f, math.inf), math.nextafter(f, -math.inf)):
        if abs(x - (Decimal(f) + Decimal(other)) / 2) <= MIDPOINT * abs(x):
            raise _Fallback
    return f


def _polish(slope, curvature, x: Decimal, a: Decimal, b: Decimal) -> Decimal:
    """The root of an increasing ``slope`` in (a, b) from ``x`` near it, to ROOT_TOL relative: Newton's steps in
    decimals, checked by a sign change of the slope within ROOT_TOL; else bisection in log space."""
    for _ in range(8):
        step = slope(x)[0] / curvature(x)[0]
        x -= step
        if abs(step) < x * ROOT_TOL / 100:
            break
    if a < x < b and slope(x * (1 - ROOT_TOL))[0] < 0 < slope(x * (1 + ROOT_TOL))[0]:
        return x
    lo, hi = a.ln(), b.ln()  # Newton's steps did not get there: bisection in log space
    while hi - lo >= ROOT_TOL:
        m = (lo + hi) / 2
        lo, hi = (lo, m) if slope(m.exp())[0] > 0 else (m, hi)
    return ((lo + hi) / 2).exp()


def _float_root(slope, a: float, b: float) -> float:
    """The sign change of ``slope`` in (a, b) (slope(a) < 0 < slope(b)), bisected in floats."""
    for _ in range(200):
        m = (a * b) ** 0.5
        if not a < m < b:
            break
        a, b = (a, m) if slope(m) > 0 else (m, b)
    return (a * b) ** 0.5


def _optimum(fit: dict, c: Decimal, u: Decimal, un: Decimal, k: Decimal, n_ref: Decimal) -> tuple:
    """(loss, N) of the least loss along the budget line, as the full path's search finds it.

    The slopes on the grid and the losses of the candidates are looked at in floats, every decision with
    a margin (a slope at least 1e-8 from zero, relative; a loss at least 1e-12 below the others); the roots
    and the least loss are then computed in decimals."""
    funcs = fit["functions"]
    nu = c / (k * u)  # N at which D = U
    lo_all, hi_all = n_ref / 10**4, n_ref * 10**4
    for x, y in ((nu, lo_all), (nu, hi_all), (un, lo_all), (un, hi_all), (nu, un)):
        _apart(x, y)
    cf, uf, unf, kf = float(c), float(u), float(un), float(k)
    candidates = []  # (loss in floats, N, regime, a root?)
    for i, (repeated, excess) in enumerate(fit["dc_regimes"]):
        quick = funcs[f"dc_{i}_float"]
        lo, hi = lo_all, hi_all
        lo, hi = (lo, min(hi, nu)) if repeated else (max(lo, nu), hi)
        lo, hi = (max(lo, un), hi) if excess else (lo, min(hi, un))
        if not lo < hi:
            continue
        lof, hif = float(lo), float(hi)
        candidates += [(quick(lof, cf, uf, unf, kf)[0], lo, i), (quick(hif, cf, uf, unf, kf)[0], hi, i)]
        grid = [lof * (hif / lof) ** (j / 64) for j in range(65)]
        at = (c, u, un, k)
        slopes = []
        for j, x in enumerate(grid):
            s = quick(x, cf, uf, unf, kf)[1]
            if not abs(s * x) > SIGN:  # look again in decimals at the full path's grid point
                xd = lo * (hi / lo) ** (Decimal(j) / 64)
                (s,) = funcs[f"dc_{i}_slope"](xd, *at)
                if not abs(s * xd) > TIE:  # a root on the grid point: the full path's sign there is noise
                    if j in (0, 64):
                        raise _Fallback
                    s = 0  # with its neighbours' signs (- and +), exactly one root near it (sa < 0 <= sb)
            slopes.append(s)
        for j, (sa, sb) in enumerate(zip(slopes, slopes[1:])):
            if sa == 0 and not (j and slopes[j - 1] < 0 < sb):
                raise _Fallback
            if sa < 0 <= sb:
                a, b = grid[j], grid[j + 1] if sb else grid[min(j + 2, 64)]
                x = _float_root(lambda n: quick(n, cf, uf, unf, kf)[1], a, b)
                root = _polish(lambda n: funcs[f"dc_{i}_slope"](n, *at), lambda n: funcs[f"dc_{i}_curvature"](n, *at),
                               Decimal(x), Decimal(a) * (1 - TIE), Decimal(b) * (1 + TIE))
                candidates.append((quick(x, cf, uf, unf, kf)[0], root, i))
    if not candidates:
        raise _Fallback
    best_f = min(t[0] for t in candidates)
    close = [(funcs[f"dc_{i}_loss"](n, c, u, un, k)[0], n) for loss, n, i in candidates
             if loss - best_f <= LOSS_TIE * best_f]  # the float look cannot order these: decimals do
    best_loss, best_n = min(close, key=lambda t: t[0])
    for loss, n in close:  # a near tie at another N: the full path's choice could differ
        if loss - best_loss <= TIE * best_loss and abs(n - best_n) > TIE * best_n:
            raise _Fallback
    return best_loss, best_n


def data_constrained(opts: dict, G, name: str, out: list, data) -> None:
    """``--unique-tokens``: the data-constrained table into ``out`` (text) or ``data["data_constrained"]`` (--json)."""
    from .._scalefmt import fmt_float, table

    fit = G.FITS[name]
    unique = opts["unique"]
    if "dc_regimes" not in fit or "loss" in opts or unique.denominator != 1:
        raise _Fallback  # a fit without R_D*, R_N*, or --loss: the full path's error
    exact_c, c, n_ref, d_ref, loss_ref, k = opts["optimum"]
    funcs = fit["functions"]
    u, kd = _dec(unique), _dec(k)
    (un,) = funcs["dc_unique_params"](u)
    loss, n = _optimum(fit, c, u, un, kd, n_ref)
    d = c / (kd * n)
    _apart(n, un)
    _apart(d, u)
    repeated, excess = funcs["dc_effective"](n, d, u)
    values = {"params": n, "tokens": d, "epochs": d / u, "effective_params": n if n < un else excess,
              "effective_tokens": d if d < u else repeated, "loss": loss}
    rows = {key: nearest(v) for key, v in values.items()}
    rows.update(unconstrained_params=float(n_ref), unconstrained_tokens=float(d_ref), unconstrained_loss=float(loss_ref))
    if data is not None:
        data["data_constrained"] = {"unique_tokens": float(unique), **rows}
        return
    labels = [("params", "N", "parameters"), ("tokens", "D", "tokens"), ("epochs", "epochs", ""),
              ("effective_params", "N'", "parameters"), ("effective_tokens", "D'", "tokens"),
              ("loss", "loss", "nats/token"), ("unconstrained_params", "N (unlimited data)", "parameters"),
              ("unconstrained_tokens", "D (unlimited data)", "tokens"),
              ("unconstrained_loss", "loss (unlimited data)", "nats/token")]
    title = f"{name} at C = {fmt_float(float(exact_c), 'FLOP')} with {fmt_float(float(unique), 'tokens')} unique"
    out.append(table(title, [(label, fmt_float(rows[key], unit)) for key, label, unit in labels]))
