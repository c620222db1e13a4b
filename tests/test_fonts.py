"""The Chinese font's static faces: made once from the shipped variable font, kept in the
user cache under a key of the file's hash and the fontTools version, written atomically,
and made in the temp dir when the cache cannot be written.

Instancing the real font takes a minute or more, so these tests replace it with a stub
that writes a marker file; the real faces are checked in tests/test_reporting.py
(weights of the drawn glyphs) and below (what the cached faces are).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import fontTools
import pytest
from fontTools.ttLib import TTFont

from parksim.viz import fonts


@pytest.fixture
def roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """A cache root and a temp-dir root of this test's own."""
    chosen = [tmp_path / "cache" / "fonts", tmp_path / "tmp" / "parksim-fonts"]
    monkeypatch.setattr(fonts, "_cache_roots", lambda: chosen)
    return chosen


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A quick stand-in for the instancer; lists the weights it was asked for."""
    calls: list[int] = []

    def instantiate(source: Path, weight: int, dest: Path) -> None:
        calls.append(weight)
        dest.write_text(f"{source.name} at {weight}")

    monkeypatch.setattr(fonts, "instantiate", instantiate)
    return calls


def faces() -> dict[int, Path]:
    return fonts.cjk_faces.__wrapped__()  # past the per-process cache


def test_faces_are_made_once_and_then_read_from_the_cache(roots, built) -> None:
    first = faces()
    assert sorted(built) == [400, 700]
    assert first[400].parent == roots[0] / fonts.cache_key(fonts.cjk_font_path())
    assert first[400].read_text().endswith("at 400") and first[700].read_text().endswith("700")
    assert faces() == first
    assert sorted(built) == [400, 700]  # nothing made the second time
    assert not [p for p in first[400].parent.iterdir() if p.suffix == ".part"]


def test_a_new_font_file_or_fonttools_gets_new_faces(roots, built, monkeypatch) -> None:
    old = faces()
    monkeypatch.setattr(fontTools, "version", "99.0.0")
    new = faces()
    assert new[400].parent != old[400].parent and "fonttools99.0.0" in new[400].parent.name
    assert len(built) == 4
    source = fonts.cjk_font_path()
    assert fonts.cache_key(source).startswith(fonts._file_hash(source)[:16])


def test_an_unwritable_cache_falls_back_to_the_temp_dir(roots, built) -> None:
    # As root every folder is writable, so the cache is made unwritable by a file in its way.
    roots[0].parent.mkdir(parents=True)
    roots[0].write_text("not a folder")
    made = faces()
    assert made[400].parent.parent == roots[1]
    assert made[700].is_file()


def test_a_full_cache_disk_falls_back_to_the_temp_dir(roots, monkeypatch) -> None:
    def instantiate(source: Path, weight: int, dest: Path) -> None:
        if roots[0] in dest.parents:
            raise OSError(errno.ENOSPC, "No space left on device", str(dest))
        dest.write_text("face")

    monkeypatch.setattr(fonts, "instantiate", instantiate)
    made = faces()
    assert made[400].parent.parent == roots[1]
    key_folder = roots[0] / fonts.cache_key(fonts.cjk_font_path())
    assert list(key_folder.iterdir()) == []  # no partial face left behind


def test_nowhere_to_write_is_one_clear_error(roots, monkeypatch) -> None:
    for root in roots:
        root.parent.mkdir(parents=True)
        root.write_text("not a folder")
    monkeypatch.setattr(fonts, "instantiate", pytest.fail)
    with pytest.raises(OSError, match="cannot write the Chinese font faces"):
        faces()


def test_an_interrupted_build_leaves_no_face_under_its_name(roots, monkeypatch) -> None:
    def interrupted(source: Path, weight: int, dest: Path) -> None:
        dest.write_text("half a fa")
        raise KeyboardInterrupt

    monkeypatch.setattr(fonts, "instantiate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        faces()
    folder = roots[0] / fonts.cache_key(fonts.cjk_font_path())
    assert list(folder.iterdir()) == []


def test_the_cached_faces_are_static_regular_and_bold() -> None:
    """The real faces, as charts use them (made on first use if this runs first)."""
    made = fonts.cjk_faces()
    source = TTFont(fonts.cjk_font_path(), lazy=True)
    assert "fvar" in source and source["fvar"].axes[0].defaultValue == 100  # why: Thin
    for weight, path in made.items():
        face = TTFont(path, lazy=True)
        assert "fvar" not in face and "gvar" not in face
        assert face["OS/2"].usWeightClass == weight
        assert face["name"].getDebugName(6) == f"NotoSansSC-{fonts.WEIGHTS[weight]}"
        # The source's timestamp, not the build time: the same inputs give the same file.
        assert face["head"].modified == source["head"].modified
        assert os.stat(path).st_mode & 0o044 == 0o044  # readable by others
