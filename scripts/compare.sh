#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: set up, build, run every example on every
# target and print the side-by-side table; the results file lands in results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh "$@"
exec .venv/bin/notavm run --json results.json
