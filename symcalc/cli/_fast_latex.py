"""``symcalc latex params|flops|mem [--preset NAME] [--breakdown]`` without sympy: the generated text.

The LaTeX of these invocations is fixed by the model and today's defaults, so
``python -m symcalc._fastgen --write`` runs the full path for each (no model flags, and every
preset) and writes what it prints to :mod:`symcalc._generated.latex`; the test suite regenerates
it and fails when it is stale. Any other flag (sizes, layouts, ``--hf-config``, ``--cookbook``)
goes to the full path.
"""

from __future__ import annotations

from ._fast_args import parse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional, Sequence

__all__ = ["answer"]

FLAGS = {"--preset": ("preset", "text"), "--breakdown": ("breakdown", "flag")}


def answer(argv: Sequence[str]) -> Optional[str]:
    """The text ``symcalc latex ...`` prints, or None when the full path must answer."""
    if len(argv) < 2 or argv[1] not in ("params", "flops", "mem"):
        return None
    opts = parse(argv[2:], FLAGS)
    if opts is None:
        return None
    from .._generated.latex import INDEX, TEXTS

    key = argv[1] + (f" --preset {opts['preset']}" if "preset" in opts else "") + \
        (" --breakdown" if opts.get("breakdown") else "")
    return TEXTS[INDEX[key]] if key in INDEX else None
