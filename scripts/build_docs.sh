#!/usr/bin/env bash
# Build the HTML documentation into docs/_build/html (offline; every warning is an error).
#   pip install -e ".[docs]" && scripts/build_docs.sh [OUT]
# A fresh build each time (-E): a warning in a page that did not change is not hidden.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/_build/html}"
export MPLBACKEND=Agg
exec python -m sphinx -E -W --keep-going -q -b html -d "$out/.doctrees" docs "$out"
