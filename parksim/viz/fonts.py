"""The fonts charts are set in: DejaVu Sans (matplotlib's own) and a shipped CJK font.

Chinese glyphs come from Noto Sans SC (SIL Open Font License 1.1), which the PyPI
package ``justmytype-intl-cjk`` carries as a TrueType-outline file (``glyf`` table, no
CFF): TrueType outlines embed in PDF as Type 42 subsets that viewers read, whereas
CFF-flavoured OpenType files (the usual Noto Sans CJK .otf/.otc) come out broken.

That file is a *variable* font whose default master is Thin (wght 100), and matplotlib
draws only a font's default. So at first use the file is instantiated with
``fontTools.varLib.instancer`` at wght 400 (Regular, body text) and 700 (Bold, titles)
into static fonts in the user cache, keyed by the source file's hash and the fontTools
version, and those two faces are registered with matplotlib: no system font, no
font-cache rebuild. The build takes one to a few minutes (31,000 glyphs, twice) and
happens once per machine; later runs read the cached files.

No static Regular + Bold Simplified-Chinese TrueType font under the OFL ships on PyPI:
the Noto Sans CJK packages there carry CFF ``.otf``/``.otc`` files or the Traditional
forms, and WenQuanYi Micro Hei is one weight under GPL/Apache.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
import tempfile
from importlib.resources import files
from pathlib import Path

import fontTools
import platformdirs
from matplotlib import font_manager

#: The shipped CJK font: its family name and its file inside justmytype-intl-cjk.
CJK_FAMILY = "Noto Sans SC"
CJK_PACKAGE, CJK_FILE = "justmytype_intl_cjk", "fonts/ofl/notosanssc/NotoSansSC[wght].ttf"
LATIN_FAMILY = "DejaVu Sans"
#: The static faces made from the variable font: OS/2 weight class → style name.
WEIGHTS = {400: "Regular", 700: "Bold"}


def cjk_font_path() -> Path:
    """Path of the shipped (variable) Noto Sans SC file."""
    return Path(str(files(CJK_PACKAGE) / CJK_FILE))


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_key(source: Path) -> str:
    """Folder name of the faces made from ``source``: a new font file or a new fontTools
    (which may instantiate differently) gets new faces, never stale ones."""
    return f"{_file_hash(source)[:16]}-fonttools{fontTools.version}"


def face_name(weight: int) -> str:
    """File name of the static face of ``weight`` (400 or 700)."""
    return f"NotoSansSC-{WEIGHTS[weight]}.ttf"


def instantiate(source: Path, weight: int, dest: Path) -> None:
    """Write the static face of ``source`` at ``weight`` to ``dest``.

    The head table's timestamp is left as it is in ``source`` so that the same inputs
    give the same bytes.
    """
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    with TTFont(source) as font:
        face = instancer.instantiateVariableFont(font, {"wght": weight}, updateFontNames=True)
        face.recalcTimestamp = False
        face.save(dest)


def _writable_dir(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


def _cache_roots() -> list[Path]:
    """Where faces may be kept: the user cache, else a folder in the temp dir."""
    return [
        Path(platformdirs.user_cache_dir("parksim")) / "fonts",
        Path(tempfile.gettempdir())
        / f"parksim-fonts-{os.getuid() if hasattr(os, 'getuid') else 0}",
    ]


def _build(source: Path, weight: int, dest: Path) -> None:
    """Instantiate into a temporary file beside ``dest``, then rename it into place, so
    a crash or a concurrent build never leaves a half-written face under the final name."""
    fd, partial = tempfile.mkstemp(dir=dest.parent, prefix=dest.stem, suffix=".part")
    os.close(fd)
    try:
        instantiate(source, weight, Path(partial))
        os.chmod(partial, 0o644)  # mkstemp's 0600 would hide the face from other accounts
        os.replace(partial, dest)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


@functools.cache
def cjk_faces() -> dict[int, Path]:
    """The static Regular and Bold faces of the shipped font, made on first use.

    Looks in the user cache, then in a folder of the temp dir (for a read-only or full
    home); builds what is missing in the first of them that can be written.
    """
    source = cjk_font_path()
    key = cache_key(source)
    folders = [root / key for root in _cache_roots()]
    for folder in folders:
        found = {w: folder / face_name(w) for w in WEIGHTS}
        if all(p.is_file() for p in found.values()):
            return found
    last_error: OSError | None = None
    for folder in folders:
        if not _writable_dir(folder):
            continue
        found = {w: folder / face_name(w) for w in WEIGHTS}
        missing = [w for w, p in found.items() if not p.is_file()]
        if missing and sys.stderr is not None and sys.stderr.isatty():
            print(
                "parksim: making the Chinese font's Regular and Bold faces "
                f"(once per machine, a minute or more) in {folder}",
                file=sys.stderr,
            )
        try:
            for w in missing:
                _build(source, w, found[w])
        except OSError as error:  # full disk: try the next folder
            last_error = error
            continue
        return found
    raise OSError(
        f"cannot write the Chinese font faces to {' or '.join(map(str, folders))}"
        + (f": {last_error}" if last_error else "")
    )


@functools.cache
def register() -> str:
    """Add the Regular and Bold faces of the CJK font to matplotlib's font list (once);
    return its family name."""
    listed = {Path(f.fname) for f in font_manager.fontManager.ttflist}
    for path in cjk_faces().values():
        if path not in listed:
            font_manager.fontManager.addfont(str(path))
    return CJK_FAMILY


def families() -> list[str]:
    """Font families for ``font.family``: Latin first, CJK glyph by glyph after it."""
    return [LATIN_FAMILY, register()]


@functools.cache
def _fonts() -> tuple:
    return tuple(
        font_manager.get_font(font_manager.findfont(font_manager.FontProperties(family=f)))
        for f in families()
    )


def printable(text: str) -> str:
    """``text`` with characters that neither font draws replaced by ``?``.

    Scenario and strategy names come from users; a replaced character beats
    matplotlib's "Glyph missing" warning and an empty box in print.
    """
    fonts = _fonts()
    return "".join(
        c if c.isspace() or any(f.get_char_index(ord(c)) for f in fonts) else "?" for c in text
    )
