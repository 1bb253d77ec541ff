"""The ``--hf-config`` part of :mod:`symcalc._fastgen`: which config.json files are a preset's model.

:func:`hf_spec` records the fields symcalc's config reader looks at for each preset (a dict that
notes every lookup) and the values there that give the preset's model; :func:`generate_hf_index`
writes them to ``symcalc/_generated/hf.py``, which :mod:`symcalc.cli._fast_sources` matches a
config.json against without sympy.
"""

from __future__ import annotations

import pprint
from typing import Any

from ._fastgen import HEADER
from .cli._fast_sources import _same_json

__all__ = ["hf_spec", "generate_hf_index"]

_ALL = "*"  # a spec entry: the whole object at this path was read (iterated, copied)


class _Recorder(dict):
    """A config dict that records which fields the family reader looks at (paths into nested objects)."""

    def __init__(self, data: dict, path: tuple, seen: set) -> None:
        super().__init__(data)
        self._path, self._seen = path, seen

    def _wrap(self, key, value):
        return _Recorder(value, self._path + (key,), self._seen) if isinstance(value, dict) else value

    def get(self, key, default=None):
        self._seen.add(self._path + (key,))
        return self._wrap(key, super().get(key, default))

    def __getitem__(self, key):
        self._seen.add(self._path + (key,))
        return self._wrap(key, super().__getitem__(key))

    def __contains__(self, key):
        self._seen.add(self._path + (key,))
        return super().__contains__(key)

    def _everything(self):
        self._seen.add(self._path + (_ALL,))

    def keys(self):
        self._everything()
        return super().keys()

    def items(self):
        self._everything()
        return super().items()

    def values(self):
        self._everything()
        return super().values()

    def __iter__(self):
        self._everything()
        return super().__iter__()

    def copy(self):
        self._everything()
        return dict(self)


_MISSING = ("<missing>",)


def _at(data: Any, path: tuple) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return _MISSING
        data = data[key]
    return data


#: Values a real config.json often holds where a preset's stored fields leave a key out (a dropout of 0.0,
#: ``attention_bias: false``, ...); each is accepted for a key when the model stays the preset's with it.
_USUAL = (None, False, True, 0, 0.0)


def _model(config: dict, name: str, seen: set):
    from unittest import mock

    from . import hf

    with mock.patch.object(hf, "load_hf_config", lambda c: (_Recorder(config, (), seen), "config dict")):
        return hf.model_from_hf_config({}, name=name)


def _keeps(config: dict, name: str, want, seen: set) -> bool:
    """Whether ``config`` gives the model ``want`` reading no field outside ``seen`` (so nothing else decides)."""
    from .errors import SymcalcError

    read: set = set()
    try:
        return _model(config, name, read) == want and read <= seen
    except SymcalcError:
        return False


def hf_spec(name: str) -> list:
    """``[(path, values), ...]``: the fields of preset ``name``'s config.json that symcalc's reader looks at and
    the values that give the preset's model (``_MISSING``: absent; a path read whole, as a nested
    ``text_config``, must hold the whole object). A config.json holding one of the values at every
    path gives the same Model (its name aside: ``_name_or_path``, else the folder). A value other
    than the preset's (or absence) is accepted only where the model with it, and with every such value
    at once, equals the preset's."""
    from .presets import PRESETS

    config = PRESETS[name].config
    seen: set = set()
    want = PRESETS[name].model()
    assert _model(config, name, seen) == want, name
    paths = sorted(seen - {("_name_or_path",)}, key=repr)
    whole = {p[:-1] for p in paths if p[-1] == _ALL}
    spec, usual = [], {}
    for p in paths:
        if any(p[:len(w)] == w and p != w + (_ALL,) for w in whole):
            continue  # inside an object read whole
        path = p[:-1] if p[-1] == _ALL else p
        value = _at(config, path)
        values = [value]
        if len(path) == 1 and p[-1] != _ALL:
            for candidate in _USUAL:
                if any(_same_json(candidate, v) for v in values):
                    continue
                changed = dict(config)
                if candidate is None:  # JSON null
                    changed[path[0]] = None
                else:
                    changed[path[0]] = candidate
                if _keeps(changed, name, want, seen):
                    values.append(candidate)
            if value is not _MISSING:  # absent where the preset has it: only if the model stays the same
                absent = {k: v for k, v in config.items() if k != path[0]}
                if _keeps(absent, name, want, seen):
                    values.append(_MISSING)
            usual[path[0]] = values[1:]
        spec.append((path, values))
    for k in range(max((len(v) for v in usual.values()), default=0)):  # every accepted value at once
        changed = {key: value for key, value in config.items()}
        for key, values in usual.items():
            if values:
                value = values[min(k, len(values) - 1)]
                if value is _MISSING:
                    changed.pop(key, None)
                else:
                    changed[key] = value
        assert _keeps(changed, name, want, seen), (name, changed)
    return spec


def generate_hf_index() -> str:
    """The source of ``symcalc/_generated/hf.py``: per model_type, the presets and the fields that make a config theirs."""
    from .presets import PRESETS

    by_type: dict = {}
    for name, preset in PRESETS.items():
        by_type.setdefault(preset.config.get("model_type"), []).append((name, hf_spec(name)))
    return (HEADER.rstrip("\n").rstrip('"') + "\n\nPer ``model_type``, each preset and the fields of its config.json that "
            "symcalc's reader looks at, with their values\n(``MISSING`` where absent): a config.json holding the same "
            "values there is that preset's model.\n\"\"\"\n\n"
            f"MISSING = {_MISSING!r}\n\n"
            "BY_TYPE = " + pprint.pformat(by_type, width=110, sort_dicts=False).replace(repr(_MISSING), "MISSING") + "\n")
