"""Presets: every built-in model against its published parameter count.

Exact counts where the publisher prints the integer; otherwise the rounded figure the model
page or paper gives, compared at that precision. (The conformance tests separately check that
each preset's config gives exactly the transformers model's count.) The published figures live in
``symcalc._validation``, which the documentation's validation page prints from.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from symcalc import Model, SymcalcError, active_params, non_embedding_params, params
from symcalc._validation import (PUBLISHED_ACTIVE, PUBLISHED_NON_EMBEDDING, PUBLISHED_NON_EMBEDDING_ROUNDED,
                                 PUBLISHED_TOTAL, agrees as _agrees, round_sig as _round_sig)
from symcalc.presets import PRESETS, get_preset, preset_names

def test_every_preset_has_a_published_count():
    """The published-count table covers exactly the preset catalogue."""
    assert set(PUBLISHED_TOTAL) == set(preset_names())


@pytest.mark.parametrize("name", list(PUBLISHED_TOTAL))
def test_preset_total_matches_published(name):
    """Each preset's total equals its published count (exactly, or at the published precision)."""
    published, digits, _source = PUBLISHED_TOTAL[name]
    assert digits is None or _round_sig(int(published), digits) == Decimal(int(published))
    total = params(get_preset(name)).total
    assert total.is_Integer
    if digits is None:
        assert total == published
    else:
        assert _agrees(int(total), published, digits), (int(total), published)


@pytest.mark.parametrize("name", list(PUBLISHED_NON_EMBEDDING))
def test_preset_non_embedding_matches_published(name):
    """Non-embedding counts equal the Pythia table and the Gemma reports exactly."""
    assert non_embedding_params(get_preset(name)) == PUBLISHED_NON_EMBEDDING[name]


@pytest.mark.parametrize("name,page", [("falcon-7b", 7.22e9), ("falcon-40b", 41.8e9)])
def test_falcon_model_pages_count_the_stored_copy_of_the_tied_head(name, page):
    """Falcon's model pages (7.22B, 41.8B) count the tied LM head's stored copy: total + v*h, to 3 digits."""
    model = get_preset(name)
    assert model.tied_embeddings
    assert _agrees(int(params(model).total + model.vocab * model.d_model), page, 3)


@pytest.mark.parametrize("name", list(PUBLISHED_ACTIVE))
def test_active_parameters_of_moe_presets(name):
    """Each MoE preset's active parameters, under its publisher's convention, agree with the card."""
    published, digits, convention, _source = PUBLISHED_ACTIVE[name]
    assert _agrees(int(active_params(get_preset(name), convention=convention).total), published, digits)


def test_every_moe_preset_has_a_published_active_count():
    """Every MoE preset is pinned to a published active count."""
    assert {n for n in PRESETS if get_preset(n).is_moe} == set(PUBLISHED_ACTIVE)


@pytest.mark.parametrize("name", list(PUBLISHED_NON_EMBEDDING_ROUNDED))
def test_qwen3_non_embedding_matches_cards(name):
    """Qwen3's non-embedding counts (the cards' second line) agree at the published precision."""
    published, digits = PUBLISHED_NON_EMBEDDING_ROUNDED[name]
    assert _agrees(int(non_embedding_params(get_preset(name))), published, digits)


def test_mtp_modules_reproduce_the_checkpoints():
    """With MTP modules, DeepSeek-V3's checkpoint is the README's 685B (the page also counts FP8 block
    scales, so 684.49B agrees at 3 digits), its MTP module 11.5B unique besides the copied 0.9B
    embedding and 0.9B head (README_WEIGHTS.md, which leaves eh_proj out of the 11.5B); GLM-4.5-Air's
    checkpoint is the 110B of its model page."""
    main, ckpt = get_preset("deepseek-v3"), get_preset("deepseek-v3", mtp=True)
    bd = params(ckpt)
    assert _agrees(int(bd.total), 685e9, 3)
    assert _agrees(int(bd["mtp/embedding"]), 0.9e9, 1) and _agrees(int(bd["mtp/head"]), 0.9e9, 1)
    unique = bd.select("mtp") - bd["mtp/embedding"] - bd["mtp/head"] - bd["mtp/projection"]
    assert _agrees(int(unique), 11.5e9, 3)
    assert bd.total - params(main).total == bd.select("mtp")
    assert _agrees(int(params(get_preset("glm-4.5-air", mtp=True)).total), 110e9, 3)


def test_readme_promises():
    """Llama-2-7B is 6,738,415,616 and Pythia-160M has 85,056,000 non-embedding parameters."""
    assert params(Model.preset("llama-2-7b")).total == 6738415616
    assert non_embedding_params(Model.preset("pythia-160m")) == 85056000


def test_preset_names_are_case_insensitive_and_named():
    """get_preset ignores case and surrounding space, and the Model carries the preset's name."""
    assert get_preset(" Llama-2-7B ") == get_preset("llama-2-7b")
    assert get_preset("gpt2").name == "gpt2"


def test_unknown_preset_lists_names_and_suggests():
    """An unknown name is a one-line error suggesting close names and listing every preset."""
    with pytest.raises(SymcalcError) as info:
        get_preset("mistral-8b")
    message = str(info.value)
    assert "\n" not in message
    assert "did you mean mistral-7b" in message
    assert all(name in message for name in PRESETS)


def test_presets_carry_descriptions_and_families():
    """Every preset has a one-line description and a supported model_type."""
    from symcalc.hf import SUPPORTED_MODEL_TYPES

    for preset in PRESETS.values():
        assert preset.description and "\n" not in preset.description
        assert preset.family in SUPPORTED_MODEL_TYPES
