#!/usr/bin/env bash
# Debian's chromium (and CJK fonts) for the browser tests and the dashboard memory benchmark;
# nothing to do when /usr/bin/chromium is already there.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Debian chromium"
  sudo_cmd=""
  if [ "$(id -u)" != "0" ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get -o DPkg::Lock::Timeout=600 install -y -qq chromium fonts-noto-cjk >/dev/null
fi
