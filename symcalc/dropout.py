"""Where a model applies dropout in training: a structural part of the model, read from its config.

Dropout saves a mask for backward wherever it is applied with a rate above 0 (a rate of 0 is an
identity that saves nothing, which is how Llama, Mistral, Qwen and Gemma train: their configs'
``attention_dropout`` is 0.0). Four places matter for activation memory:

- ``attention``: the attention probabilities (an ``a·s²`` mask per sequence, and the dropped
  probabilities that the matmul with V then saves);
- ``attention_residual``: the attention block's output before the residual add;
- ``mlp_residual``: the MLP's output before the residual add (one mask for a parallel block that
  drops the sum, as Falcon does);
- ``embedding``: the embeddings before the first layer.

>>> Dropout.from_rates(attention=0.1, residual=0.1, embedding=0.0)
Dropout(attention=True, attention_residual=True, mlp_residual=True, embedding=False)
>>> Dropout.everywhere().any, Dropout.nowhere().any
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .inputs import as_amount, as_bool

__all__ = ["Dropout"]


@dataclass(frozen=True)
class Dropout:
    """Which dropouts a model applies in training (True: a rate above 0)."""

    attention: bool = True
    attention_residual: bool = True
    mlp_residual: bool = True
    embedding: bool = True

    def __post_init__(self) -> None:
        for name in ("attention", "attention_residual", "mlp_residual", "embedding"):
            object.__setattr__(self, name, as_bool(f"Dropout.{name}", getattr(self, name)))

    @classmethod
    def everywhere(cls) -> "Dropout":
        """Dropout at all four places (GPT-2, GPT-3 and the model of Korthikanti et al. 2022)."""
        return cls(True, True, True, True)

    @classmethod
    def nowhere(cls) -> "Dropout":
        """No dropout (Llama, Mistral, Qwen, Gemma, Pythia)."""
        return cls(False, False, False, False)

    @classmethod
    def from_rates(cls, *, attention: Any = 0, residual: Any = 0, embedding: Any = 0,
                   attention_residual: Any = None) -> "Dropout":
        """From a config's rates: each place is on when its rate is above 0 (rates as exact numbers).

        ``attention_residual`` defaults to ``residual`` (one hidden-dropout rate for both residuals).
        """
        def on(name: str, rate: Any) -> bool:
            return bool(as_amount(name, rate) > 0)

        res = on("residual", residual)
        att_res = res if attention_residual is None else on("attention_residual", attention_residual)
        return cls(on("attention", attention), att_res, res, on("embedding", embedding))

    @property
    def any(self) -> bool:
        """True when dropout is applied somewhere."""
        return self.attention or self.attention_residual or self.mlp_residual or self.embedding

    def __bool__(self) -> bool:
        """Dropout somewhere (so ``if dropout:`` reads as "any dropout")."""
        return self.any
