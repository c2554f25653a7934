"""Frozen data to JSON and back, every value checked against its type on the way in.

The build cache is written in this format because a notes repository can ship a cache
folder: loading it must only ever make data (pickle would run whatever the file says),
and a value that is not what its type says is refused (`Invalid`), never half-trusted.
A dataclass is a list of its fields in order, a tuple or list a list, a frozenset a
sorted list, bytes a hex string, an enum its value.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import operator
import types
import typing
from collections.abc import Callable
from typing import Any

Convert = Callable[[Any], Any]


class Invalid(ValueError):
    """Stored data that is not what its type says (a broken or foreign file)."""


def dumps(value: object, tp: object) -> bytes:
    """`value`, of type `tp`, as JSON."""
    return text(value, tp).encode("ascii")


def text(value: object, tp: object) -> str:
    """`value`, of type `tp`, as JSON text: ASCII, which is faster to write than UTF-8
    here and keeps the lone surrogate of a file name that is not UTF-8."""
    return _JSON.encode(encoder(tp)(value))


_JSON = json.JSONEncoder(separators=(",", ":"), check_circular=False)


def loads(data: bytes | str, tp: object) -> Any:
    """The value of type `tp` that `data` holds; Invalid if it holds anything else."""
    try:
        plain = json.loads(data)
    except (ValueError, RecursionError) as exc:  # not JSON, too deep, a 5,000-digit number
        raise Invalid(str(exc)) from exc
    return decoder(tp)(plain)


def decode(plain: object, tp: object) -> Any:
    """The value of type `tp` from what json.loads gave; Invalid if it is not one."""
    try:
        return decoder(tp)(plain)
    except RecursionError as exc:
        raise Invalid("nested too deep") from exc


_ENCODERS: dict[object, Convert | None] = {}
_DECODERS: dict[object, Convert] = {}


def encoder(tp: object) -> Convert:
    """What turns a value of type `tp` into what json.dumps writes."""
    found = _encoder(tp)
    return found if found is not None else _same


def _same(value: object) -> object:
    return value


def _encoder(tp: object) -> Convert | None:
    """None where json.dumps writes the value as it is (strings, numbers, tuples of them):
    most of a card is, and converting nothing is what keeps the cache fast."""
    if tp in _ENCODERS:
        return _ENCODERS[tp]
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        made: list[Convert] = []
        _ENCODERS[tp] = lambda v: made[0](v)  # for itself in its fields (a Section's children)
        made.append(_dataclass_encoder(tp))
        _ENCODERS[tp] = made[0]
        return made[0]
    found = _make_encoder(tp)
    _ENCODERS[tp] = found
    return found


def _make_encoder(tp: object) -> Convert | None:
    if tp in (str, int, bool, type(None), Any):
        return None
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return None if issubclass(tp, str | int) else operator.attrgetter("value")
    if tp is bytes:
        return bytes.hex
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        convert = _encoder(_optional(tp, args))
        if convert is None:
            return None
        return lambda v: None if v is None else convert(v)
    if origin in (tuple, list):
        items = [_encoder(a) for a in args if a is not Ellipsis]
        if all(c is None for c in items):
            return None
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            one = items[0]
            assert one is not None
            return lambda v: [one(x) for x in v]
        each = [c or _same for c in items]
        return lambda v: [c(x) for c, x in zip(each, v, strict=True)]
    if origin is frozenset:
        item = _encoder(args[0])
        if item is None:
            return sorted
        return lambda v: sorted(item(x) for x in v)
    if origin is dict:
        value = _encoder(args[1])
        if value is None:
            return None
        return lambda v: {k: value(x) for k, x in v.items()}
    raise TypeError(f"the cache cannot store a {tp!r}")


def _optional(tp: object, args: tuple[object, ...]) -> object:
    """X of `X | None`, the only union the cache stores."""
    others = [a for a in args if a is not type(None)]
    if len(args) != 2 or len(others) != 1:
        raise TypeError(f"the cache stores X | None only, not {tp!r}")
    return others[0]


def _dataclass_encoder(cls: type) -> Convert:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    converts = [_encoder(hints[name]) for name in names]
    get = operator.attrgetter(*names)
    if len(names) == 1:
        only = converts[0] or _same
        return lambda v: [only(get(v))]
    needs = [(i, c) for i, c in enumerate(converts) if c is not None]
    if not needs:
        return get  # a tuple of the fields, which json.dumps writes as a list

    def encode(v: object) -> list[object]:
        values = list(get(v))
        for i, convert in needs:
            values[i] = convert(values[i])
        return values

    return encode


def decoder(tp: object) -> Convert:
    """What turns json.loads' value back into one of type `tp`, raising Invalid on
    anything else: a wrong type, a wrong length, an unknown enum value."""
    found = _DECODERS.get(tp)
    if found is None:
        found = _make_decoder(tp)
        _DECODERS[tp] = found
    return found


def _is(kind: type) -> Convert:
    def check(v: object) -> object:
        if type(v) is not kind:
            raise Invalid(f"{v!r:.40} is not a {kind.__name__}")
        return v

    return check


def _make_decoder(tp: object) -> Convert:
    if tp is Any:  # checked by the caller, who knows what it holds
        return _same
    if tp in (str, int, bool):
        assert isinstance(tp, type)
        return _is(tp)
    if tp is type(None):
        return _none
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_decoder(tp)
    if tp is bytes:
        return _bytes
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _dataclass_decoder(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        return _optional_decoder(tp, args)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _sequence_decoder(args[0], tuple)
    if origin is list:
        return _sequence_decoder(args[0], list)
    if origin is tuple:
        return _fixed_decoder(args)
    if origin is frozenset:
        return _sequence_decoder(args[0], frozenset)
    if origin is dict:
        return _dict_decoder(args[0], args[1])
    raise TypeError(f"the cache cannot load a {tp!r}")


def _none(v: object) -> None:
    if v is not None:
        raise Invalid(f"{v!r:.40} is not null")


def _bytes(v: object) -> bytes:
    if type(v) is not str:
        raise Invalid(f"{v!r:.40} is not hex")
    return bytes.fromhex(v)  # a ValueError is an Invalid's base: the caller refuses both


def _enum_decoder(cls: type[enum.Enum]) -> Convert:
    def decode(v: object) -> enum.Enum:
        if type(v) not in (str, int):
            raise Invalid(f"{v!r:.40} is not a {cls.__name__}")
        try:
            return cls(v)
        except ValueError as exc:
            raise Invalid(str(exc)) from exc

    return decode


def _dataclass_decoder(cls: type) -> Convert:
    """A function written for `cls` (as dataclasses writes __init__): a card is checked
    field by field in one expression rather than through a call per field, which made
    reading the cache as slow as building the cards again."""
    fields = dataclasses.fields(cls)
    made: list[Convert] = []
    _DECODERS[cls] = lambda v: made[0](v)  # for itself in its fields (Section's children)
    hints = typing.get_type_hints(cls)
    names: dict[str, object] = {"cls": cls, "Invalid": Invalid, "list": list}
    checks, converts = [], []
    for n, f in enumerate(fields):
        tp, name = hints[f.name], f"f{n}"
        args = typing.get_args(tp)
        optional = typing.get_origin(tp) in (types.UnionType, typing.Union) and len(args) == 2
        if optional and type(None) in args:  # str | None, a clock's tuple[int, ...] | None
            inner = _optional(tp, args)
            if inner in (str, int, bool) or _is_plain_sequence(inner):
                tp = inner
            else:
                optional = False
        else:
            optional = False
        unless_none = f"{name} is not None and " if optional else ""
        if tp in (str, int, bool):
            names[f"t{n}"] = tp
            checks.append(f"{unless_none}type({name}) is not t{n}")
        elif _is_plain_sequence(tp):
            names[f"k{n}"] = {typing.get_args(tp)[0]}
            checks.append(
                f"{unless_none}(type({name}) is not list or not set(map(type, {name})) <= k{n})"
            )
            if optional:
                converts.append(f"    {name} = None if {name} is None else tuple({name})")
            else:
                converts.append(f"    {name} = tuple({name})")
        else:
            names[f"c{n}"] = decoder(tp)
            converts.append(f"    {name} = c{n}({name})")
    every = ", ".join(f"f{n}" for n in range(len(fields)))
    source = [
        "def decode(v):",
        f"    if type(v) is not list or len(v) != {len(fields)}:",
        f"        raise Invalid(f'{{v!r:.40}} is not a {cls.__name__}')",
        f"    {every}, = v",
    ]
    if checks:
        source += [
            f"    if {' or '.join(checks)}:",
            f"        raise Invalid(f'{{v!r:.40}} is not a {cls.__name__}')",
        ]
    source += [*converts, f"    return cls({every})"]
    exec("\n".join(source), names)  # our own code, written from our own type hints
    made.append(typing.cast(Convert, names["decode"]))
    _DECODERS[cls] = made[0]
    return made[0]


def _is_plain_sequence(tp: object) -> bool:
    """tuple[str, ...] or tuple[int, ...]: checked by the types of its items at once."""
    args = typing.get_args(tp)
    return (
        typing.get_origin(tp) is tuple
        and len(args) == 2
        and args[1] is Ellipsis
        and args[0] in (str, int)
    )


def _optional_decoder(tp: object, args: tuple[object, ...]) -> Convert:
    convert = decoder(_optional(tp, args))
    return lambda v: None if v is None else convert(v)


def _sequence_decoder(item: object, make: Callable[[Any], Any]) -> Convert:
    if item in (str, int):
        assert isinstance(item, type)
        kinds = {item}

        def decode_plain(v: object) -> object:
            if type(v) is not list or not set(map(type, v)) <= kinds:
                raise Invalid(f"{v!r:.40} is not a list of {item.__name__}")
            return make(v)

        return decode_plain
    args = typing.get_args(item)
    if typing.get_origin(item) in (types.UnionType, typing.Union) and type(None) in args:
        inner = decoder(_optional(item, args))  # moments: a call less for each

        def decode_optional(v: object) -> object:
            if type(v) is not list:
                raise Invalid(f"{v!r:.40} is not a list")
            return make([None if x is None else inner(x) for x in v])

        return decode_optional
    convert = decoder(item)

    def decode(v: object) -> object:
        if type(v) is not list:
            raise Invalid(f"{v!r:.40} is not a list")
        return make([convert(x) for x in v])

    return decode


def _fixed_decoder(args: tuple[object, ...]) -> Convert:
    converts = [decoder(a) for a in args]
    count = len(converts)

    def decode(v: object) -> tuple[object, ...]:
        if type(v) is not list or len(v) != count:
            raise Invalid(f"{v!r:.40} is not a tuple of {count}")
        return tuple(c(x) for c, x in zip(converts, v, strict=True))

    return decode


def _dict_decoder(key: object, value: object) -> Convert:
    if key is not str:
        raise TypeError(f"the cache keys a dict by strings, not {key!r}")
    convert = decoder(value)

    def decode(v: object) -> dict[str, object]:
        if type(v) is not dict:
            raise Invalid(f"{v!r:.40} is not an object")
        return {k: convert(x) for k, x in v.items()}  # json keys are always strings

    return decode
