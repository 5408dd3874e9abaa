# Sourced by scripts/serve and scripts/test: make .venv and install the kit into it,
# again only when setup.cfg changed. $1: the extras to install ("" or "[test]").
set -euo pipefail
extras="${1:-}"
if [ ! -x .venv/bin/python ]; then
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
        || { echo "error: the kit needs Python 3.10 or newer; python3 here is $(python3 -V 2>&1)" >&2; exit 1; }
    echo "Creating .venv ..."
    python3 -m venv .venv
fi
stamp=".venv/.kit-installed${extras}"
want="$(cat setup.cfg pyproject.toml | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "Installing the kit${extras} into .venv ..."
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
    echo "$want" > "$stamp"
fi
