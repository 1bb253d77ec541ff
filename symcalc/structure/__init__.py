"""Structural parts of a model, each with its own symbols and its terms in one place.

- :mod:`~symcalc.structure.layers`: :class:`LayerSet` (which layers have a property, as a rule
  valid for symbolic ``L``) and :class:`Window` (sliding or chunked attention on some layers);
- :mod:`~symcalc.structure.attention`: attention kinds, :class:`GQA` (with qk-norm and sinks) and
  :class:`MLA` (multi-head latent attention);
- :class:`MTP`: multi-token-prediction modules (DeepSeek-V3, GLM-4.5), counted only when asked.

A :class:`~symcalc.model.Model` holds one attention kind, one window, one MoE layer set and
optionally MTP modules; params, FLOPs and memory ask them for their terms.
"""

from __future__ import annotations

from .attention import GQA, MLA, MLA_CACHE, QK_NORMS
from .layers import ALL_LAYERS, FULL, NO_LAYERS, WINDOW_CACHE, WINDOW_FLOPS, LayerSet, Window
from .mtp import MTP

__all__ = ["LayerSet", "ALL_LAYERS", "NO_LAYERS", "Window", "FULL", "GQA", "MLA", "MTP", "QK_NORMS",
           "MLA_CACHE", "WINDOW_CACHE", "WINDOW_FLOPS"]
