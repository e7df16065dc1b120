#!/usr/bin/env bash
# Runs every test for real: installs and starts what is missing (scripts/setup.sh), then
# lint, the fast unit tests and the integration tests against the real Docker daemon.
# Integration prerequisites that are missing fail the run instead of skipping it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh "$@"
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy src
NOTAVM_REQUIRE_INTEGRATION=1 .venv/bin/pytest -v tests
