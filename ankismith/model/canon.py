"""Values as canonical JSON, for hashes and for the build cache: every field of every dataclass,
recursively, so that a key made from a value covers all of it by construction.

    digest(*parts)      a cache key: the SHA-256 of the parts' canonical form (type-tagged)
    digest_with(*first) digest(*first, *rest) for many rests, the first parts encoded once
    content_hash(*parts) a note's or note type's hash, as ankismith.lock records it
    encode / decode     a frozen dataclass to plain JSON and back, lossless (the cache's entries)

A type this module does not know is an error, never silently hashed by its `str()`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from collections.abc import Callable
from enum import Enum
from fractions import Fraction
from functools import cache
from pathlib import Path, PurePath
from typing import Any


def sha256_hex(data: bytes | str) -> str:
    """The hex SHA-256 of bytes (text as UTF-8): file contents, names, salts."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def sha256_int(data: bytes | str, size: int) -> int:
    """The first `size` bytes of the SHA-256 of `data`, as a big-endian number (stable ids)."""
    raw = hashlib.sha256(data.encode() if isinstance(data, str) else data).digest()
    return int.from_bytes(raw[:size], "big")


def canonical(value: Any) -> Any:
    """`value` as JSON-able data that tells apart every value that differs: dataclasses with the
    name and value of every field, enums, paths, fractions, arrays with their types; mappings keep
    their order (the order of a numeric block's params is the order they are drawn in)."""
    kind = type(value)
    if kind in _ATOMS:  # exactly these types: most values met (what derives from them is below)
        return value
    names = _FIELDS.get(kind)
    if names is not None or (dataclasses.is_dataclass(value) and not isinstance(value, type)):
        names = names or _FIELDS.setdefault(kind, tuple(f.name for f in dataclasses.fields(kind)))
        return [kind.__qualname__, [[name, _canonical_item(getattr(value, name))] for name in names]]
    if kind is tuple or kind is list:
        return [_canonical_item(v) for v in value]
    if isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, Enum):
        return [type(value).__qualname__, canonical(value.value)]
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        return ["dict", [[canonical(k), canonical(v)] for k, v in value.items()]]
    if isinstance(value, PurePath):
        return ["path", value.as_posix()]
    if isinstance(value, Fraction):
        return ["fraction", str(value)]
    if isinstance(value, bytes):
        return ["bytes", sha256_hex(value)]
    if isinstance(value, frozenset | set):
        return ["set", sorted((canonical(v) for v in value), key=json.dumps)]
    if hasattr(value, "dtype") and hasattr(value, "tolist"):  # a numpy array or scalar
        return ["array", str(value.dtype), list(getattr(value, "shape", ())), canonical(value.tolist())]
    raise TypeError(f"no canonical form for {type(value).__name__}: teach model/canon.py its fields")


_FIELDS: dict[type, tuple[str, ...]] = {}  # each dataclass's field names, read once
_ATOMS = frozenset({str, int, bool, type(None)})


def _canonical_item(value: Any) -> Any:
    return value if type(value) in _ATOMS else canonical(value)


def digest(*parts: Any) -> str:
    """A key for `parts`: the SHA-256 of their canonical form."""
    return sha256_hex(json.dumps(canonical(parts), ensure_ascii=False, separators=(",", ":")))


def digest_with(*first: Any) -> Callable[..., str]:
    """`digest(*first, *rest)` as a function of `rest` (not empty), the canonical form of `first`
    made once: for many keys that share their first parts (a file's cards, with the deck's settings)."""
    head = json.dumps(canonical(first), ensure_ascii=False, separators=(",", ":"))[:-1]
    head = head + "," if first else head

    def made(*rest: Any) -> str:
        return sha256_hex(head + json.dumps(canonical(rest), ensure_ascii=False, separators=(",", ":"))[1:])

    return made


def content_hash(*parts: Any) -> str:
    """A stable hash of JSON-like parts: a note's content, a note type's (recorded in ankismith.lock,
    so its form never changes: every note would count as changed)."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# --- a frozen dataclass as plain JSON, and back ----------------------------------------------------


def encode(value: Any) -> Any:
    """`value` as plain JSON: a dataclass as the list of its fields' values, in order."""
    kind = type(value)
    if kind in _PLAIN:  # exactly these types (an enum may derive from str): most values met
        return value
    names = _ENCODED.get(kind)
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _ENCODED.setdefault(kind, tuple(f.name for f in dataclasses.fields(value)))
    if names is not None:
        return [encode(getattr(value, name)) for name in names]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [v if type(v) in _PLAIN else encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, PurePath):
        return value.as_posix()
    return value


_PLAIN = frozenset({str, int, float, bool, type(None)})
_ENCODED: dict[type, tuple[str, ...]] = {}  # each dataclass's field names, read once


def decode(kind: type[Any], data: Any) -> Any:
    """The value of type `kind` that `encode` gave `data` for."""
    return _decoder(kind)(data)


@cache
def _decoder(hint: Any) -> Callable[[Any], Any]:
    """How to read back a value of the type `hint` (a dataclass, a tuple, an enum, a path...)."""
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        readers = [_decoder(hints[f.name]) for f in dataclasses.fields(hint)]
        size = len(readers)
        convert = [(index, read) for index, read in enumerate(readers) if read is not _same]
        names = [f.name for f in dataclasses.fields(hint)]
        # what its __init__ would do, but one setattr call per field (a frozen dataclass's): the
        # fields into the instance's __dict__, where nothing else happens on the way
        direct = (
            all(f.init for f in dataclasses.fields(hint))
            and not hasattr(hint, "__post_init__")
            and "__slots__" not in hint.__dict__
        )
        new = object.__new__

        def read_dataclass(data: Any) -> Any:
            if len(data) != size:
                raise ValueError(f"{hint.__name__} has {size} fields, the entry {len(data)}")
            values = list(data)
            for index, read in convert:  # only the fields that are not plain JSON already
                values[index] = read(values[index])
            if not direct:
                return hint(*values)
            made = new(hint)
            made.__dict__.update(zip(names, values, strict=True))
            return made

        return read_dataclass
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            read = _decoder(options[0])
            return _same if read is _same else (lambda data: None if data is None else read(data))
        return _same
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            read = _decoder(args[0])
            return tuple if read is _same else (lambda data: tuple(map(read, data)))
        readers = tuple(_decoder(a) for a in args)
        if all(read is _same for read in readers):
            return tuple
        return lambda data: tuple(read(item) for read, item in zip(readers, data, strict=True))
    if origin is list:
        read = _decoder(args[0]) if args else _same
        return lambda data: [read(item) for item in data]
    if origin is dict and args:
        read = _decoder(args[1])
        return _same if read is _same else (lambda data: {key: read(item) for key, item in data.items()})
    if isinstance(hint, type) and issubclass(hint, Enum):
        return {member.value: member for member in hint}.__getitem__  # KeyError: not a member
    if isinstance(hint, type) and issubclass(hint, PurePath):
        return Path
    return _same


def _same(data: Any) -> Any:
    return data


def decoder(hint: Any) -> Callable[[Any], Any]:
    """How `decode` reads a value of the type `hint`: `same` when the JSON is the value already."""
    return _decoder(hint)


same = _same
