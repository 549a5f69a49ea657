#!/usr/bin/env bash
# Debian's CJK fonts (fonts-noto-cjk) for the PDF/PNG reports and the browser tests: product,
# region and branch names are Chinese. Nothing to do when a Chinese font is already installed.
# Without apt (or when it fails) a warning, and the caller goes on: the reports then draw
# Chinese as empty boxes, and the dashboard's log says so.
set -uo pipefail

has_cjk_font() {
  [ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] ||
    { command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh file 2>/dev/null)" ]; }
}

warn() {
  echo "warning: $1; Chinese text in the PDF/PNG reports will be empty boxes." >&2
  echo "         Install a CJK font, e.g. sudo apt-get install fonts-noto-cjk" >&2
  exit 0
}

has_cjk_font && exit 0
command -v apt-get >/dev/null 2>&1 || warn "no CJK font and no apt-get to install one"
sudo_cmd=""
if [ "$(id -u)" != "0" ]; then
  command -v sudo >/dev/null 2>&1 || warn "no CJK font, and sudo is needed to install one"
  sudo_cmd="sudo"
fi
echo "==> installing fonts-noto-cjk"
$sudo_cmd apt-get -o DPkg::Lock::Timeout=600 update -qq ||
  warn "apt-get update failed"
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get -o DPkg::Lock::Timeout=600 \
  install -y -qq fonts-noto-cjk >/dev/null || warn "installing fonts-noto-cjk failed"
