"""``--plot FILE``: the figure of a subcommand's answer (matplotlib, the ``plot`` extra)."""

from __future__ import annotations

import argparse
from typing import Any, Callable


def add_plot_argument(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--plot", metavar="FILE",
                   help=f"also write a figure: {what}; .png, .svg or .pdf by the suffix "
                        "(needs matplotlib: pip install 'symcalc[plot]')")


def write_plot(args: argparse.Namespace, build: Callable[[], Any]) -> str | None:
    """Build and save the figure when ``--plot`` was given; the path written, else None.

    A missing matplotlib or a bad file name is a one-line error before anything is drawn.
    """
    if getattr(args, "plot", None) is None:
        return None
    from ..errors import SymcalcError
    from ..plot import FORMATS, require_matplotlib, save_figure

    require_matplotlib()
    if not any(args.plot.lower().endswith(s) for s in FORMATS):
        raise SymcalcError(f"--plot {args.plot!r:.60}: write .png, .svg or .pdf (the suffix sets the format)")
    return save_figure(build(), args.plot)
