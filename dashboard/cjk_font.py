"""A CJK font for the matplotlib reports: product, region and branch names are Chinese on every
page, and DejaVu Sans (matplotlib's default) draws them as empty boxes.

matplotlib lists the system's fonts once, in its cache (~/.cache/matplotlib/fontlist-*.json):
a CJK font installed after that is on disk but unknown to it. Such a font is added to the
running process with the public `FontManager.addfont`; the cache is left alone."""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.font_manager import FontManager

log = logging.getLogger("radar.fonts")

# The families tried in order; Noto Sans CJK comes with Debian's fonts-noto-cjk.
FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
)
# Where Debian and Fedora put Noto Sans CJK, looked at before asking fontconfig.
FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)
FALLBACK = "DejaVu Sans"  # bundled with matplotlib
MISSING = (
    "No CJK font found: Chinese text in the PDF/PNG reports is drawn as empty boxes. "
    "Install one, e.g. `sudo apt-get install fonts-noto-cjk` (./run.sh does this when apt "
    "is available), then restart the dashboard."
)


def _known(manager: FontManager) -> str | None:
    names = {entry.name for entry in manager.ttflist}
    return next((family for family in FAMILIES if family in names), None)


def _system_files() -> list[str]:
    """Font files that fontconfig says cover Chinese, sans-serif before serif."""
    if shutil.which("fc-list") is None:
        return []
    try:
        listed = subprocess.run(
            ["fc-list", "-f", "%{file}\n", ":lang=zh"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    files = sorted({line.strip() for line in listed.splitlines() if line.strip()})
    return sorted(files, key=lambda f: ("Sans" not in f, "Regular" not in f))


@functools.cache
def cjk_family() -> str | None:
    """The family name of an installed CJK font, added to matplotlib when only the system knows
    it; None (with one warning in the log) when there is none."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    family = _known(manager)
    if family:
        return family
    for path in [*FONT_FILES, *_system_files()]:
        if not Path(path).is_file():
            continue
        before = len(manager.ttflist)
        try:
            manager.addfont(path)
        except (OSError, RuntimeError, ValueError) as error:
            log.debug("cannot load font %s: %s", path, error)
            continue
        family = _known(manager) or manager.ttflist[before].name
        log.info("added CJK font %s (%s) to matplotlib", family, path)
        return family
    log.warning(MISSING)
    return None


def sans_serif() -> list[str]:
    """matplotlib's font.sans-serif: the CJK font when there is one (it has Latin letters too),
    then DejaVu Sans. Families that are not installed are left out, so matplotlib does not log
    "font family not found" for each."""
    family = cjk_family()
    return [family, FALLBACK] if family else [FALLBACK]
