"""Note identities: a GUID from the deck id and the card key, never from the content.

The same algorithm as genanki.guid_for (first 8 bytes of SHA-256, in Anki's base-91 alphabet),
written out here so that a rebuild that writes nothing need not import genanki; a test checks
that both agree.
"""

from __future__ import annotations

from ankismith.model.canon import sha256_int

_BASE91 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"


def guid_for(deck_id: str, key: str) -> str:
    """A note's GUID: from the deck id and the card key."""
    number = sha256_int(f"{deck_id}__{key}", 8)
    digits = []
    while number > 0:
        number, digit = divmod(number, len(_BASE91))
        digits.append(_BASE91[digit])
    return "".join(reversed(digits))
