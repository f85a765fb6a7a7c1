#!/usr/bin/env bash
# Usage: scripts/fetch-runtimes.sh. Unpacks Bun and Deno from the npm registry's packages (the binaries are
# inside them; nothing is downloaded from elsewhere) into .cache/runtimes/{bun,deno}/, for the runtime suites
# (test/conformance/runtimes.test.ts). Versions are pinned here; rm -r .cache/runtimes to fetch again.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .cache/runtimes
fetch() { # NAME PACKAGE@VERSION BINARY-IN-PACKAGE
  local dir=".cache/runtimes/$1"
  [ -x "$dir/$3" ] && return 0
  local tmp
  tmp="$(mktemp -d "$PWD/.cache/runtimes/.tmp-XXXXXX")"
  local tgz
  tgz="$(npm pack "$2" --pack-destination "$tmp" --loglevel=warn | tail -1)"
  tar -xzf "$tmp/$tgz" -C "$tmp"
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
  rm -rf "$tmp"
  chmod +x "$dir/$3"
  echo "runtimes: $1 $("$dir/$3" --version | head -1)"
}
fetch bun @oven/bun-linux-x64@1.4.5 bin/bun
fetch deno @deno/linux-x64-glibc@2.9.6 deno
