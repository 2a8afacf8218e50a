#!/usr/bin/env bash
# Rebuilds the console as the server embeds it, from a clean install: the server's
# OpenAPI document (`jingzhun openapi`, its prose dropped by openapi-shape.mjs), the API
# types generated from it into src/api/schema.d.ts, the type checks (vue-tsc, console and
# officer app) and the Vite builds: the console into dist/, then the officer app
# (app/, issue 13) into dist/app/ (`npm run build`).
# dist/ and schema.d.ts are committed, so a clone builds the server without Node.js;
# scripts/test runs this and fails when the result differs from what is committed.
set -euo pipefail
cd "$(dirname "$0")"

cargo run --quiet --locked -p jingzhun-cli -- openapi > openapi.json
node openapi-shape.mjs
rm -rf node_modules dist
npm ci --no-audit --no-fund --loglevel=error
npm run --silent api
npm run --silent build
