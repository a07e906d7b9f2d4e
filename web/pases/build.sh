#!/bin/sh
# Rebuilds src/web/assets/pases.js, the script of the /e/{slug}/pases page,
# from main.mjs and the pinned packages of package-lock.json.
#
#   sh web/pases/build.sh        (from anywhere)
#
# Installs exactly the locked packages (npm ci), bundles with esbuild into
# one minified IIFE (ES2020) and prints the file's size and SHA-256. The
# same lock file gives the same bytes: run it twice and compare.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
node build.mjs
OUT=../../src/web/assets/pases.js
echo "$(wc -c < "$OUT") bytes  $(sha256sum "$OUT" | cut -d' ' -f1)  src/web/assets/pases.js"
