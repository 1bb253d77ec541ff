"""Multi-token-prediction modules: a structure counted only when asked (transformers does not build them)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SymcalcError

__all__ = ["MTP"]


@dataclass(frozen=True)
class MTP:
    """Multi-token-prediction modules after the last layer (DeepSeek-V3 §2.2; GLM-4.5).

    Each module holds two RMSNorms (``enorm``, ``hnorm``) over the embedding and the previous
    hidden state, a projection ``eh_proj`` of their concatenation ``2h → h``, one transformer
    layer of the model's own kind (MoE when the model is MoE), and a head: an RMSNorm and a
    ``v × h`` output matrix. Checkpoints also store a copy of the token embedding per module
    (DeepSeek-V3: 14B of MTP weights "including the shared 0.9B embedding and 0.9B output head",
    671B + 14B = the 685B on the model page). ``shared_embeddings=True`` counts neither copy (the
    embedding and head are the main model's, as in training); the default counts both, so the
    total is what the checkpoint stores.

    transformers does not build these modules: a :class:`~symcalc.model.Model` has none unless
    asked (``Model.from_hf_config(..., mtp=True)`` or ``mtp=MTP(1)``).
    """

    n_modules: int = 1
    shared_embeddings: bool = False

    def __post_init__(self) -> None:
        n = self.n_modules
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise SymcalcError(f"MTP n_modules={n!r} must be a Python int >= 1 (num_nextn_predict_layers)")
        if not isinstance(self.shared_embeddings, bool):
            raise SymcalcError(f"MTP shared_embeddings={self.shared_embeddings!r} must be True or False")
