"""Which collection file to push into: the one given, or a profile's in Anki's data folder.

Anki keeps each profile in a folder of its data folder, with its collection in
`collection.anki2`. The data folder is where Anki itself looks (aqt/profiles.py): `$ANKI_BASE`
when set; else `%APPDATA%\\Anki2` on Windows, `~/Library/Application Support/Anki2` on macOS,
`$XDG_DATA_HOME/Anki2` (default `~/.local/share/Anki2`) elsewhere.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from ankismith.push.route import PushError

COLLECTION_FILE = "collection.anki2"


def anki_base(env: Mapping[str, str], platform: str, home: Path) -> Path:
    """Anki's data folder on this system, as Anki finds it."""
    if env.get("ANKI_BASE"):
        return Path(env["ANKI_BASE"])
    if platform.startswith("win"):
        return Path(env.get("APPDATA") or home / "AppData" / "Roaming") / "Anki2"
    if platform == "darwin":
        return home / "Library" / "Application Support" / "Anki2"
    return Path(env.get("XDG_DATA_HOME") or home / ".local" / "share") / "Anki2"


def profiles(base: Path) -> list[str]:
    """The profiles in Anki's data folder: its folders that hold a collection."""
    try:
        return sorted(p.name for p in base.iterdir() if (p / COLLECTION_FILE).is_file())
    except OSError:
        return []


def find_collection(
    collection: Path | None,
    profile: str | None,
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    home: Path | None = None,
) -> Path:
    """The collection file to push into: `collection`, or `profile`'s, or the only profile's;
    PushError says what is wrong and what to give instead."""
    base = anki_base(os.environ if env is None else env, platform or sys.platform, home or Path.home())
    if collection is not None:
        if collection.is_dir() and (collection / COLLECTION_FILE).is_file():
            return collection / COLLECTION_FILE  # a profile's folder
        if not collection.is_file():
            raise PushError(
                f"{collection}: no Anki collection there; --collection takes a profile's {COLLECTION_FILE} "
                f"(e.g. {base / 'User 1' / COLLECTION_FILE}), or use --profile NAME"
            )
        return collection
    found = profiles(base)
    if profile is not None:
        if profile not in found:
            known = f"its profiles: {', '.join(found)}" if found else "it has no profile"
            raise PushError(f"no Anki profile {profile!r} in {base} ({known})")
        return base / profile / COLLECTION_FILE
    if not found:
        raise PushError(
            f"no Anki profile in {base} (Anki's data folder here): give --collection PATH (a {COLLECTION_FILE} "
            "file), or --profile NAME with ANKI_BASE set to Anki's data folder"
        )
    if len(found) > 1:
        raise PushError(f"several Anki profiles in {base}: {', '.join(found)}; choose one with --profile NAME")
    return base / found[0] / COLLECTION_FILE
