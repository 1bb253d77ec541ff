"""The table of defaults: two sets, one switch, every entry sourced, the README's copy current."""

from pathlib import Path

import pytest

from symcalc import SymcalcError, defaults

ROOT = Path(__file__).resolve().parents[1]


def test_every_entry_has_a_meaning_a_source_and_a_flag():
    """Each default in both sets states what it means, where it comes from and which flag overrides it."""
    for s in defaults.SETS.values():
        for key in s:
            e = s.entry(key)
            assert e.meaning and e.source and e.flag, key
        assert set(s) == set(defaults.TODAY)


def test_cookbook_set_differs_where_the_cookbook_scripts_do():
    """The cookbook set keeps its scripts' values: eager attention, dropout, DeepSpeed buffers, s = 2048."""
    c = defaults.COOKBOOK
    assert (c.flash_attention, c.dropout, c.sequence_parallel) == (False, True, False)
    assert (int(c.allgather_bucket), int(c.max_live_params), int(c.seq_len)) == (500_000_000, 10**9, 2048)
    assert c.flops_recompute == "full" and c.topk == 1
    assert c.for_command("flops")["num_experts"] == 128 and c.for_command("params")["num_experts"] == 8
    assert defaults.TODAY.for_command("flops")["num_experts"] == defaults.TODAY.for_command("params")["num_experts"]


def test_switches_nest_and_restore():
    """using() restores the previous set after its block, even on an error; use() returns the one it replaced."""
    assert defaults.active() is defaults.TODAY
    with pytest.raises(RuntimeError):
        with defaults.using("cookbook"):
            assert defaults.active() is defaults.COOKBOOK
            with defaults.using(defaults.TODAY.replace(seq_len=4096)) as mine:
                assert defaults.resolve("seq_len") == 4096 and mine.source("seq_len") == "set by the caller"
            assert defaults.resolve("seq_len") == 2048
            raise RuntimeError
    assert defaults.active() is defaults.TODAY
    previous = defaults.use("cookbook")
    try:
        assert previous is defaults.TODAY and defaults.active() is defaults.COOKBOOK
    finally:
        defaults.use(previous)
    assert defaults.resolve("zero_stage", 3) == 3


def test_bad_names_are_one_line_errors():
    """An unknown set or setting is a SymcalcError naming the choices; a set cannot be mutated."""
    with pytest.raises(SymcalcError, match="today, cookbook"):
        defaults.use("2022")
    with pytest.raises(SymcalcError, match="no default named"):
        defaults.TODAY["zero"]
    with pytest.raises(SymcalcError, match="no default named"):
        defaults.TODAY.replace(zero=3)
    with pytest.raises(SymcalcError, match="immutable"):
        defaults.TODAY.seq_len = 4


def test_docs_table_is_generated():
    """The Concepts page prints the table generated from symcalc.defaults.table() (no hand copy anywhere)."""
    assert "```{symcalc-md} defaults\n```" in (ROOT / "docs" / "concepts.md").read_text()
    assert "| `precision` |" not in (ROOT / "README.md").read_text()


def test_every_subcommand_takes_cookbook():
    """--cookbook is a flag of every subcommand (and of each of solve's questions and latex's quantities)."""
    import argparse

    from symcalc.cli import build_parser

    def leaves(parser):
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            yield parser
        for action in subs:
            for child in action.choices.values():
                yield from leaves(child)

    top = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)][0]
    found = [p.prog for command in top.choices.values() for p in leaves(command)]
    assert len(found) > 15
    for command in top.choices.values():
        for p in leaves(command):
            assert any("--cookbook" in a.option_strings for a in p._actions), p.prog


def test_sheets_do_not_depend_on_the_active_set():
    """The formula sheets are one document: built the same under the cookbook's set as under today's."""
    from symcalc.render import sheet_files

    today = sheet_files()
    with defaults.using("cookbook"):
        assert sheet_files() == today
