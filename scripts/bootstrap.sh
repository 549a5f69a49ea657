#!/usr/bin/env bash
# Create .venv with Python >= 3.11 and install the given requirements file, once per change of it.
set -euo pipefail
cd "$(dirname "$0")/.."
requirements="${1:-requirements.txt}"

find_python() {
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
      echo "$candidate"
      return 0
    fi
  done
  echo "error: Python 3.11 or newer is required" >&2
  return 1
}

if [ ! -x .venv/bin/python ]; then
  python="$(find_python)"
  echo "==> creating .venv with $python"
  "$python" -m venv .venv
fi

# A stamp holds the digest of every requirements file when its file was installed.
wanted="$(basename "$requirements")"
digest="$(cat requirements*.txt | sha256sum | cut -d' ' -f1)"
installed() { [ -f ".venv/.installed-$1" ] && [ "$(cat ".venv/.installed-$1")" = "$digest" ]; }

# Installed as it is now, or as part of a file that includes it (requirements-dev.txt starts
# with "-r requirements.txt": after ./test.sh, ./run.sh has nothing to install).
satisfied() {
  installed "$wanted" && return 0
  for file in requirements*.txt; do
    if [ "$file" != "$wanted" ] && grep -qxF -- "-r $wanted" "$file" && installed "$file"; then
      return 0
    fi
  done
  return 1
}

if ! satisfied; then
  echo "==> installing $requirements"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r "$requirements"
  echo "$digest" >".venv/.installed-$wanted"
fi
