"""The package's zip: entries past a megabyte are deflated in pieces on every core, and the
result is the same bytes on any number of cores, unzips to what went in, and imports into Anki."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest
from conftest import import_apkg

from ankismith.model.cards import Kind
from ankismith.model.ids import guid_for
from ankismith.package import apkg
from ankismith.package.apkg import DeckSpec, NoteSpec, write_apkg
from ankismith.package.models import NOTE_TYPES


def zipped(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        apkg._add(archive, "entry", data)
    return buffer.getvalue()


def text(size: int, seed: int = 0) -> bytes:
    """Compressible bytes, as a collection's rows are: words drawn from a small vocabulary."""
    words = [b"gradient", b"<b>", b"stride", b"padding", b"\n", b"softmax", b"0.25", b"layer"]
    rng = random.Random(seed)
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + b" "
    return bytes(out[:size])


@pytest.mark.parametrize("size", [apkg._PIECE + 1, 2 * apkg._PIECE, 3 * apkg._PIECE + 17])
def test_a_big_entry_unzips_to_its_bytes_and_does_not_depend_on_the_cores(
    size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = text(size, seed=size)
    made = {}
    for cores in (1, 2, 3, 8):
        monkeypatch.setattr(apkg.os, "cpu_count", lambda cores=cores: cores)
        made[cores] = zipped(data)
    assert len(set(made.values())) == 1  # the same bytes on 1, 2, 3 or 8 cores
    with zipfile.ZipFile(io.BytesIO(made[2])) as archive:
        assert archive.testzip() is None  # every CRC-32 right
        (info,) = archive.infolist()
        assert info.compress_type == zipfile.ZIP_DEFLATED and info.file_size == size
        assert info.compress_size < size // 3
        assert archive.read("entry") == data


def test_a_small_entry_is_what_zipfile_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Up to a piece's size, the entry is zipfile's own (one deflate, level 1)."""
    data = text(apkg._PIECE)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("entry", date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    assert zipped(data) == buffer.getvalue()


def test_a_package_of_several_megabytes_imports_into_anki(tmp_path: Path, anki_collection: object) -> None:
    """A collection of several pieces, deflated side by side, is read by Anki's own importer."""
    basic = NOTE_TYPES[Kind.BASIC]
    notes = []
    for index in range(1500):
        fields = [f"Question {index}: {text(900, index).decode()}", f"Answer {index}"]
        fields += [f"cards.md · q{index}"] + [""] * (len(basic.fields) - 3)
        notes.append(NoteSpec(guid_for("big", f"q{index}"), Kind.BASIC, "Big", tuple(fields), ("big",), 1_000_000))
    target = tmp_path / "big.apkg"
    write_apkg(target, "big", [DeckSpec("Big")], notes, {}, {})
    with zipfile.ZipFile(target) as archive:
        assert archive.getinfo("collection.anki2").file_size > 2 * apkg._PIECE
    import_apkg(anki_collection, target)
    col = anki_collection
    assert col.note_count() == 1500  # type: ignore[attr-defined]
    (nid,) = col.find_notes('"Source:cards.md · q1499"')  # type: ignore[attr-defined]
    note = col.get_note(nid)  # type: ignore[attr-defined]
    assert note[basic.fields[0]] == notes[-1].fields[0] and note.tags == ["big"]
