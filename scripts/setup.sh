#!/usr/bin/env bash
# Make .venv with a Python >= 3.12 (found by scripts/find-python) and install parksim
# into it, editable, with the test tools: what the README's first command starts with.
# Safe to run again: an existing .venv on a Python >= 3.12 is kept and updated.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
if [ -x "$venv/bin/python" ] &&
   "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
  echo "setup: updating $venv ($("$venv/bin/python" --version))"
else
  python=$(scripts/find-python)
  echo "setup: making $venv with $python ($("$python" --version))"
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet -e ".[test]"
echo "setup: parksim installed in $venv (commands: $venv/bin/parksim, $venv/bin/python)"
