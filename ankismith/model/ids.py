"""Note identities: a GUID from the deck id and the card key, never from the content.

The same algorithm as genanki.guid_for (first 8 bytes of SHA-256, in Anki's base-91 alphabet),
written out here so that a rebuild that writes nothing need not import genanki; a test checks
that both agree.
"""

from __future__ import annotations

import re
import unicodedata

from ankismith.model.canon import sha256_hex, sha256_int

_BASE91 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"


def guid_for(deck_id: str, key: str) -> str:
    """A note's GUID: from the deck id and the card key."""
    number = sha256_int(f"{deck_id}__{key}", 8)
    digits = []
    while number > 0:
        number, digit = divmod(number, len(_BASE91))
        digits.append(_BASE91[digit])
    return "".join(reversed(digits))


# a deck id: ASCII letters, digits, '.', '_' and '-', starting with a letter or digit (it goes into every GUID)
DECK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # whole text: use fullmatch


def suggest_deck_id(name: str) -> str:
    """A valid deck id to propose for `name` (a folder name, a rejected id), always the same for it.

    Accented Latin is transliterated (`Übung` -> `ubung`); a name with letters that have no ASCII
    form (`物理`) gets `deck-` and a short hash of the name instead, never a random id: the id makes
    every GUID, and the user should get the same proposal on every run.
    """
    name = unicodedata.normalize("NFC", name)
    ascii_form = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    kept = sum(ch.isalnum() for ch in ascii_form)
    slug = re.sub(r"[^a-z0-9_.]+", "-", ascii_form.lower()).strip("-_.")
    if slug and DECK_ID.fullmatch(slug) and kept >= sum(ch.isalnum() for ch in name):  # no letter lost
        return slug
    return f"deck-{sha256_hex(name)[:8]}"
