"""Identity: every card's GUID and mod against the lock, note by note, and the new lock."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from notedeck.anki.package import NotetypeShape
from notedeck.incremental import cache
from notedeck.incremental.lock import (
    Kept,
    LockedCard,
    LockFile,
    LockText,
    NotePlan,
    Planner,
    lock_text,
    plan_notetypes,
    unmodded_digest,
    unpack_stamps,
)
from notedeck.incremental.refresh import NewCards
from notedeck.incremental.workers import Context
from notedeck.model import Diagnostic


@dataclass
class CardPlan:
    """GUIDs and mods for the cards of the notes planned again, and the lock to write."""

    planner: Planner
    plans: dict[str, NotePlan]
    lock_text: LockText
    lock_changed: bool
    guids: dict[str, str]
    model_mods: dict[int, int]
    removed: list[LockedCard]
    diagnostics: list[Diagnostic]
    changed: set[str]  # notes whose lock entry this build changes


def plan_cards(
    records: Mapping[str, cache.NoteRecord],
    old: Mapping[str, cache.NoteRecord],
    new: NewCards,
    lock: LockFile,
    excluded: set[str],
    shapes: Sequence[NotetypeShape],
    context: Context,
) -> CardPlan:
    """Plan every note whose cards were made now (or whose exclusion changed) against the
    lock; every other note keeps its lock entry byte for byte. The stamps of the cards
    made now come from the build (a dry run) or from the meta files the workers wrote."""
    now = build_time()
    moved_from = set(lock.spans) - set(records)
    planner = Planner(lock, now, moved_from)
    blocks: dict[str, bytes | Kept] = {}
    plans: dict[str, NotePlan] = {}
    replan = []
    for rel, record in records.items():
        was_excluded = old[rel].excluded if rel in old else False
        # A note unreadable now keeps its cards in the lock as they were.
        kept = lock.kept(rel)
        if record.readable and (rel in new.notes or record.excluded != was_excluded):
            if kept and _same_cards(rel, lock, new, excluded):
                blocks[rel] = kept
            else:
                replan.append(rel)
        elif kept:
            blocks[rel] = kept
    # Shard by shard, so that only one shard's stamps are read at a time.
    loaded: tuple[str, Mapping[str, tuple[str, str]]] = ("", {})
    for rel in sorted(replan, key=lambda r: (cache.shard_of(r), r)):
        stamps = new.stamps.pop(rel, None)
        if stamps is None:
            shard = cache.shard_of(rel)
            if loaded[0] != shard:
                loaded = (
                    shard,
                    cache.load_meta(cache.meta_path(context.config, shard), context.key),
                )
            stamps = loaded[1].get(rel, (None, ""))[0]
        if rel in excluded:
            stamps = ""
        elif stamps is None:  # lost since it was written: the build starts again without it
            raise cache.CacheLost(rel)
        plans[rel] = plan = planner.plan(rel, unpack_stamps(stamps))
        if plan.block:
            blocks[rel] = plan.block
    guids = {k: g for k, g in lock.guids.items() if k not in planner.parsed_keys}
    for plan in plans.values():
        guids.update(plan.odd_guids)
    removed = planner.finish(set(guids.values()))
    live = planner.given | set(guids.values())
    # Renamed cards that left keep their GUID here, for the day their note comes back.
    retired = {k: g for k, g in lock.retired.items() if k not in planner.revived}
    retired.update((c.key, c.guid) for c in removed if c.odd_guid)
    retired = {k: g for k, g in retired.items() if g not in live}
    model_mods, types, diagnostics = plan_notetypes(shapes, lock, now)
    text = lock_text(types, guids, blocks, lock, retired)
    changed = {rel for rel, p in plans.items() if p.block != lock.block(rel)}
    # The same header and the same notes, none of whose blocks changed: the same bytes.
    same = lock.exact and text.parts[0] == lock.header() and text.spans.keys() == lock.spans.keys()
    return CardPlan(
        planner,
        plans,
        text,
        not (same and not changed),
        guids,
        model_mods,
        removed,
        [*planner.diagnostics, *diagnostics],
        changed,
    )


def _same_cards(rel: str, lock: LockFile, new: NewCards, excluded: set[str]) -> bool:
    """Whether a note built again gave exactly the cards its lock block holds (keys,
    content, types, sketches): then the plan keeps that block and every GUID in it, which
    is what planning it card by card would give. Most notes of a cold build with a lock."""
    digest = new.digests.get(rel)
    return bool(digest and rel not in excluded and unmodded_digest(lock.block(rel)) == digest)


def build_time() -> int:
    """Seconds since the epoch for new mod times: SOURCE_DATE_EPOCH when set (CI)."""
    env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if env.isdigit():
        return min(int(env), int(time.time()))
    return int(time.time())
