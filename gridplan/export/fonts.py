"""A font that draws Chinese in matplotlib (the map book).

The set-up installs Debian's ``fonts-noto-cjk``; any other installed CJK font
(WenQuanYi, Source Han, Droid Sans Fallback …) is used when that one is missing.
Nothing is downloaded.
"""

from __future__ import annotations

import functools
from pathlib import Path

#: Preferred family names, Simplified Chinese first.
CJK_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Droid Sans Fallback",
)
_FILE_HINTS = ("notosanscjk", "notosanssc", "sourcehansans", "wqy", "droidsansfallback")
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", str(Path.home() / ".fonts"))


@functools.cache
def cjk_family() -> str | None:
    """The family name of an installed CJK font known to matplotlib, or ``None``."""
    from matplotlib import font_manager as fm

    def known() -> str | None:
        names = {f.name for f in fm.fontManager.ttflist}
        return next((n for n in CJK_FAMILIES if n in names), None)

    found = known()
    if found:
        return found
    for folder in _FONT_DIRS:  # fonts installed after matplotlib built its cache
        root = Path(folder)
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            low = path.name.lower().replace("-", "").replace("_", "")
            if path.suffix.lower() in (".ttc", ".ttf", ".otf") and low.startswith(_FILE_HINTS):
                try:
                    fm.fontManager.addfont(str(path))
                except (OSError, RuntimeError, ValueError):
                    continue
    return known()


def font_families() -> list[str]:
    """matplotlib ``font.family`` list: Latin first, a CJK fallback for Chinese glyphs."""
    cjk = cjk_family()
    return ["DejaVu Sans", cjk] if cjk else ["DejaVu Sans"]
