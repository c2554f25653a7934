"""set_by_slots: the same constructor as the dataclass's own, only quicker."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from notedeck.model import Card, CardKind, Line, Moment, set_by_slots
from notedeck.questions import Question
from notedeck.render import RenderedCard


def _twin(cls: type) -> type:
    """A plain frozen slots dataclass with the fields of `cls`."""
    specs = [
        (f.name, f.type, dataclasses.field(default=f.default))
        if f.default is not dataclasses.MISSING
        else (f.name, f.type)
        for f in dataclasses.fields(cls)
    ]
    return dataclasses.make_dataclass("Twin", specs, frozen=True, slots=True)


@pytest.mark.parametrize("cls", [Card, Line, RenderedCard, Question])
def test_the_constructor_takes_what_the_dataclass_took(cls: type) -> None:
    def described(c: type) -> list[tuple[str, object, object]]:
        params = inspect.signature(c).parameters.values()
        return [(p.name, p.kind, p.default) for p in params]

    assert described(cls) == described(_twin(cls))


def _card(**changes: object) -> Card:
    values: dict[str, object] = {
        "key": "n#_#qa",
        "kind": CardKind.QA,
        "note_key": "n",
        "note_path": "n.md",
        "note_title": "N",
        "section": "S",
        "line": 3,
        "question": "Q?",
        "answer": (Line("a", (Moment(5),)),),
        "deck": ("d",),
        "tags": ("t",),
        "video_id": "v",
        "moments": (Moment(5),),
    }
    return Card(**{**values, **changes})  # type: ignore[arg-type]


def test_every_field_is_set_and_defaults_apply() -> None:
    card = _card()
    assert card.pattern == ""  # the default
    positional = Card(*(getattr(card, f.name) for f in dataclasses.fields(Card)))
    assert positional == card
    assert dataclasses.replace(card, pattern="p").pattern == "p"
    assert Line("x").moments == ()
    assert pickle.loads(pickle.dumps(card)) == card


def test_the_instances_stay_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        _card().key = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        _card(colour="red")
    with pytest.raises(TypeError):
        Line()  # type: ignore[call-arg]


def test_what_it_cannot_make_is_refused() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class WithFactory:
        items: tuple[int, ...] = dataclasses.field(default_factory=tuple)

    with pytest.raises(TypeError):
        set_by_slots(WithFactory)
