#!/usr/bin/env node
// Drive the real Vizzly JavaScript SDK (`@vizzly-testing/cli/client`) the way a test suite does,
// and report what each call returned.
//
// Usage: node sdk_send.mjs PLAN.json [OUT.json]
//
// PLAN.json:
//   {
//     "screenshots": [
//       {"name": "homepage", "image": "/abs/shot.png", "send_as": "buffer" | "path",
//        "options": {...vizzlyScreenshot options...}}
//     ],
//     "flush": true,          // call vizzlyFlush() at the end (default true)
//     "exit_code": 0          // exit with this code afterwards (default 0), to stand in for a
//                             // failing test suite under `vizzly-tui run`
//   }
//
// The result (JSON, written to OUT.json or else printed on stdout) has the shape of the captured
// fixtures' sdk-*-result.json: {info, results: [{name, sent_as, options, sdk_return, ms}], flush},
// plus what auto-discovery saw, the VIZZLY_* environment the script ran with, and timings.
// `ms` is the wall time of the vizzlyScreenshot() call alone: images sent as Buffers are read from
// disk before the clock starts, as a browser driver hands the SDK a Buffer it already holds.

import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as client from '@vizzly-testing/cli/client';

const [planPath, outPath] = process.argv.slice(2);
if (!planPath) {
  console.error('usage: node sdk_send.mjs PLAN.json [OUT.json]');
  process.exit(2);
}
const plan = JSON.parse(readFileSync(planPath, 'utf8'));
const shots = plan.screenshots ?? [];

// What the script saw of its environment before the SDK touched it (the SDK sets
// VIZZLY_ENABLED=true itself when it auto-discovers a server).
const env = {};
for (const key of ['VIZZLY_SERVER_URL', 'VIZZLY_BUILD_ID', 'VIZZLY_ENABLED', 'VIZZLY_SET_BASELINE']) {
  env[key] = process.env[key] ?? null;
}

// Load every image before any timing starts.
const inputs = shots.map(shot => (shot.send_as === 'path' ? shot.image : readFileSync(shot.image)));

const discovered = client.autoDiscoverTddServer ? client.autoDiscoverTddServer() : null;
const info = client.getVizzlyInfo ? client.getVizzlyInfo() : null;
const ready = client.isVizzlyReady ? client.isVizzlyReady() : null;

const results = [];
const started = performance.now();
for (const [i, shot] of shots.entries()) {
  const options = shot.options ?? {};
  const t0 = performance.now();
  let sdkReturn;
  let thrown = null;
  try {
    sdkReturn = await client.vizzlyScreenshot(shot.name, inputs[i], options);
  } catch (error) {
    thrown = String(error?.message ?? error);
  }
  const ms = performance.now() - t0;
  const entry = {
    name: shot.name,
    sent_as: shot.send_as === 'path' ? 'path' : 'buffer',
    options,
    // undefined (the SDK disabled itself and skipped the call) and null (the call failed) both
    // become null here; `returned` keeps them apart.
    sdk_return: sdkReturn ?? null,
    returned: sdkReturn === undefined ? 'undefined' : sdkReturn === null ? 'null' : typeof sdkReturn,
    ms,
  };
  if (thrown !== null) entry.thrown = thrown;
  results.push(entry);
}
const screenshotsMs = performance.now() - started;

let flush = null;
let flushMs = null;
if (plan.flush !== false) {
  const t0 = performance.now();
  flush = (await client.vizzlyFlush()) ?? null;
  flushMs = performance.now() - t0;
}

const output = {
  info,
  autoDiscoverTddServer: discovered,
  isVizzlyReady: ready,
  env,
  results,
  flush,
  timing: { screenshots_ms: screenshotsMs, flush_ms: flushMs, total_ms: performance.now() - started },
};

const text = JSON.stringify(output, null, 2);
if (outPath) {
  writeFileSync(outPath, text);
} else {
  process.stdout.write(`${text}\n`);
}
process.exitCode = Number(plan.exit_code ?? 0);
