"""What a push says: the plan in lines a person reads, before it is applied (so that what
--prune deletes is named before it is deleted). A dry run lists every note; a push lists the
first few of a long list."""

from __future__ import annotations

from collections.abc import Sequence

from ankismith.package.models import NOTE_TYPES
from ankismith.push.plan import REMOVED_TAG, DeckPush, PushPlan, UpdateNote
from ankismith.push.run import Prepared

SHOWN = 20  # names listed per line in a push (a dry run lists all)


def describe(prepared: Prepared) -> list[str]:
    """The plan of a push, or of a dry run, line by line."""
    dry = prepared.dry_run
    lines = []
    for built in prepared.built:
        item = built.written
        lines.append(
            f"{item.path}: {item.note_count} notes, {item.media_count} media files"
            + (" (a dry run: not written, nor ankismith.lock)" if dry else "")
        )
    lines.append(f"{'Dry run: pushing would change' if dry else 'Pushing into'} {prepared.where}:")
    lines.extend(_shared(prepared.plan))
    for deck in prepared.plan.decks:
        lines.extend(_deck(deck, full=dry))
    return lines


def closing(prepared: Prepared) -> str:
    """The last line: what was done, and when phones get it."""
    if prepared.dry_run:
        return "Dry run: nothing was written (no .apkg, no ankismith.lock, no change to the collection)."
    if not prepared.plan.changes:
        return "Nothing to push: the collection already has every change of the sources."
    return (
        "Done, in one transaction. The changes reach AnkiDroid and AnkiMobile at the next sync: open Anki, "
        "sync, then sync the phone."
    )


def _shared(plan: PushPlan) -> list[str]:
    lines = []
    added = [NOTE_TYPES[c.kind].name for c in plan.note_types if c.add]
    updated = [NOTE_TYPES[c.kind].name for c in plan.note_types if not c.add]
    if added:
        lines.append(f"  note types added: {', '.join(added)}")
    if updated:
        lines.append(
            f"  note types updated (templates and CSS; their fields and your card types kept): {', '.join(updated)}"
        )
    if plan.new_decks:
        lines.append(f"  decks created: {', '.join(plan.new_decks)}")
    if plan.descriptions:
        lines.append(f"  deck descriptions set from deck.yaml: {', '.join(name for name, _ in plan.descriptions)}")
    return lines


def _deck(deck: DeckPush, full: bool) -> list[str]:
    config = deck.config
    counts = [
        (len(deck.added), "added"),
        (len(deck.updated), _updated(deck.updated)),
        (len(deck.moved), "moved"),
        (len(deck.marked), f"tagged {REMOVED_TAG}"),
        (len(deck.pruned), "deleted (--prune)"),
    ]
    done = ", ".join(f"{count} {what}" for count, what in counts if count)
    head = f"  {config.name} ({config.id}): "
    if not done and not deck.media:
        lines = [f"{head}nothing to change ({deck.unchanged} notes as the sources give them)"]
    else:
        lines = [f"{head}{done or 'no note changed'}, {deck.unchanged} unchanged"]
    if deck.added:
        lines.append(f"    added: {_names([a.key for a in deck.added], full)}")
    if deck.updated:
        lines.append(f"    updated: {_names([_update(u) for u in deck.updated], full)}")
    if deck.moved:
        moves = [f"{m.key} ({m.source} -> {m.target})" for m in deck.moved]
        lines.append(f"    moved, as their sources' deck changed: {_names(moves, full)}")
    if deck.marked:
        lines.append(
            f"    tagged {REMOVED_TAG}, gone from the sources (kept, with their review history; "
            f"`ankismith push --prune` deletes them): {_names([g.key for g in deck.marked], full)}"
        )
    if deck.pruned:
        gone = [f'{g.key} ("{g.text}")' for g in deck.pruned]
        lines.append(
            f"    deleting {len(gone)} note{'s' if len(gone) != 1 else ''} gone from the sources, with their review "
            f"history (--prune): {', '.join(gone)}"
        )
    for left in deck.left_alone:
        lines.append(f"    left alone: {left.key}: {left.reason}")
    if deck.media:
        lines.append(f"    media files copied into the collection's media folder: {len(deck.media)}")
    return lines


def _updated(updates: Sequence[UpdateNote]) -> str:
    merged = sum(1 for u in updates if u.added_tags or u.removed_tags)
    return f"updated (tags merged on {merged})" if merged else "updated"


def _update(update: UpdateNote) -> str:
    parts = ["fields"] if update.fields else []
    tags = [*(f"+{t}" for t in update.added_tags), *(f"-{t}" for t in update.removed_tags)]
    if tags:
        parts.append(f"tags {' '.join(tags)}")
    return f"{update.key} ({'; '.join(parts)})"


def _names(names: Sequence[str], full: bool) -> str:
    if full or len(names) <= SHOWN:
        return ", ".join(names)
    return f"{', '.join(names[:SHOWN])} and {len(names) - SHOWN} more (a --dry-run lists them all)"
