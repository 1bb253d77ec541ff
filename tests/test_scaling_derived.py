"""The stored closed forms of symcalc.scaling (generated code) against their derivations: current and equal."""

from __future__ import annotations

import os

from symcalc.scaling import derive
from symcalc.scaling import _derived


def test_stored_forms_are_current():
    """symcalc/scaling/_derived.py is exactly what write_derived would write now (regenerate it if this fails)."""
    path = os.path.join(os.path.dirname(derive.__file__), "_derived.py")
    with open(path, encoding="utf-8") as f:
        assert f.read() == derive.derived_source()


def test_stored_forms_equal_fresh_derivations():
    """Every stored closed form, built from its generated code, equals its derivation run afresh (sympy ==)."""
    names = {fn.derived_name: fn for fn in derive._DERIVATIONS}
    assert set(_derived.FORMS) <= set(names) and "symcalc.scaling.derive.frontier" in _derived.FORMS
    derive._STORED[0] = False
    try:
        fresh = {name: names[name].derive() for name in _derived.FORMS}
    finally:
        derive._STORED[0] = True
    for name, build in _derived.FORMS.items():
        assert build() == fresh[name], name


def test_public_functions_use_the_stored_forms(monkeypatch):
    """With the derivation's steps disabled, a fresh cache still gives compute_optimal: the stored form is used."""
    from symcalc.scaling import compute_optimal

    def refuse(*args, **kwargs):
        raise AssertionError("derived again")

    expected = compute_optimal(10**24).n_params.exact
    monkeypatch.setattr(derive, "solve_log_linear", refuse)
    derive.frontier.cache_clear()
    from symcalc.scaling import optimum as opt

    opt._law.cache_clear()
    assert compute_optimal(10**24).n_params.exact == expected
