# Sourced by the scripts: chooses the Python and its virtual environment.
#   Python 3.13 -> .venv        (Home Assistant 2025.4.4, the oldest supported release)
#   Python 3.14 -> .venv-3.14   (Home Assistant 2026.10.4, the newest with a test harness)
# The newest Python found wins; MOBILE_TOKEN_PYTHON=3.13 or 3.14 chooses one when both are installed.
# Sets PYTHON_VERSION and VENV (an absolute path), or leaves both empty.

# The interpreter of one Python version: on PATH, or pyenv's (whose shims refuse to run unselected).
find_python() {
  local version=$1 candidate
  if command -v "python$version" >/dev/null 2>&1 && "python$version" -c 'import sys' >/dev/null 2>&1; then
    command -v "python$version"; return
  fi
  if command -v pyenv >/dev/null 2>&1; then
    candidate=$(ls -d "$(pyenv root)"/versions/"$version"*/bin/python"$version" 2>/dev/null | sort -V | tail -n 1)
    if [ -n "$candidate" ]; then echo "$candidate"; return; fi
  fi
  return 1
}

project_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
venv_dir() {
  if [ "$1" = 3.13 ]; then echo "$project_root/.venv"; else echo "$project_root/.venv-$1"; fi
}

case "${MOBILE_TOKEN_PYTHON:-}" in
  "") candidates="3.14 3.13" ;;
  3.13 | 3.14) candidates=$MOBILE_TOKEN_PYTHON ;;
  *)
    echo "MOBILE_TOKEN_PYTHON is '$MOBILE_TOKEN_PYTHON'; it must be 3.13 or 3.14." >&2
    exit 2
    ;;
esac

PYTHON_VERSION=""
VENV=""
for candidate in $candidates; do
  # A working environment needs no interpreter lookup; one whose interpreter is gone is rebuilt.
  if "$(venv_dir "$candidate")/bin/python" -c 'import sys' >/dev/null 2>&1 \
    || find_python "$candidate" >/dev/null; then
    PYTHON_VERSION=$candidate
    VENV=$(venv_dir "$candidate")
    break
  fi
done
unset candidate candidates project_root
