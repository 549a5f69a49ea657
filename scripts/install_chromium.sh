#!/usr/bin/env bash
# Debian's chromium for the browser tests and the dashboard memory benchmark, and CJK fonts
# (install_fonts.sh); nothing to do when they are already there.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_fonts.sh
if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Debian chromium"
  sudo_cmd=""
  if [ "$(id -u)" != "0" ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium >/dev/null
fi
