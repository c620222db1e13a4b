"""The fonts charts are set in: DejaVu Sans (matplotlib's own) and a shipped CJK font.

Chinese glyphs come from Noto Sans SC (SIL Open Font License 1.1), which the PyPI
package ``justmytype-intl-cjk`` carries as a TrueType-outline file (``glyf`` table, no
CFF). It is registered with matplotlib when this module is imported, so Chinese titles,
scenario and strategy names draw on any machine: no system font, no font-cache rebuild.
TrueType outlines matter for PDF: matplotlib embeds them as Type 42 subsets that viewers
read, whereas CFF-flavoured OpenType files (the usual Noto Sans CJK .otf/.otc) come out
broken. The file is a variable font whose default (and only one matplotlib draws) is its
lightest master, so Chinese text is lighter than the Latin text around it.
"""

from __future__ import annotations

import dataclasses
import functools
from importlib.resources import files
from pathlib import Path

from matplotlib import font_manager

#: The shipped CJK font: its family name and its file inside justmytype-intl-cjk.
CJK_FAMILY = "Noto Sans SC"
CJK_PACKAGE, CJK_FILE = "justmytype_intl_cjk", "fonts/ofl/notosanssc/NotoSansSC[wght].ttf"
LATIN_FAMILY = "DejaVu Sans"


def cjk_font_path() -> Path:
    """Path of the shipped Noto Sans SC file."""
    return Path(str(files(CJK_PACKAGE) / CJK_FILE))


@functools.cache
def register() -> str:
    """Add the shipped CJK font to matplotlib's font list (once); return its family name.

    The file has one weight matplotlib can draw; it is listed as normal and as bold so
    that titles and labels find it without a "Failed to find font weight" log line.
    """
    path = cjk_font_path()
    listed = font_manager.fontManager.ttflist
    if not any(Path(f.fname) == path for f in listed):
        font_manager.fontManager.addfont(str(path))
        entry = next(f for f in listed if Path(f.fname) == path and f.name == CJK_FAMILY)
        listed += [dataclasses.replace(entry, weight=w) for w in (400, 700)]
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


register()
