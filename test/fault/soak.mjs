#!/usr/bin/env node
// `npm run soak`: the fault harness at full size against the built CLI — ≥ 500 kill -9s, every fault on every endpoint,
// every hostile file — then the summary table. Exits 1 when any counter is non-zero.
//   node test/fault/soak.mjs [--seed N] [--kills N] [--only <scenario name or prefix>] [--concurrency N]
//                            [--no-faults] [--no-hostile] [--json FILE] [--verbose]
import fs from 'node:fs';
import {COUNTERS, formatSummary, runCampaign} from './harness.mjs';

function parseArgs(argv) {
  const opts = {seed: Number(process.env.CAPIT_SOAK_SEED ?? Date.now() % 1_000_000), kills: 500, concurrency: 2, faults: true, hostile: true};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case `--seed`: opts.seed = Number(value()); break;
      case `--kills`: opts.kills = Number(value()); break;
      case `--only`: opts.only = value(); break;
      case `--concurrency`: opts.concurrency = Number(value()); break;
      case `--no-faults`: opts.faults = false; break;
      case `--no-hostile`: opts.hostile = false; break;
      case `--json`: opts.json = value(); break;
      case `--verbose`: opts.verbose = true; break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  for (const k of [`seed`, `kills`, `concurrency`])
    if (!Number.isInteger(opts[k]) || opts[k] < 0) throw new Error(`--${k} must be a whole number`);
  return opts;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`soak: ${err.message}\n`);
  process.exit(2);
}

const started = Date.now();
let done = 0;
process.stderr.write(`fault harness: seed ${opts.seed}, ${opts.kills} kills${opts.faults ? `, every fault` : ``}${opts.hostile ? `, every hostile file` : ``}${opts.only ? `, only ${opts.only}` : ``}\n`);
const campaign = await runCampaign({
  ...opts,
  onResult(r) {
    done++;
    const bad = COUNTERS.filter(c => r.counters[c] > 0);
    if (opts.verbose || bad.length > 0) process.stderr.write(`  ${r.name}: ${bad.length ? bad.join(`, `) : `ok`}\n`);
    else if (done % 50 === 0) process.stderr.write(`  … ${done} scenarios, ${Math.round((Date.now() - started) / 1000)} s\n`);
  },
});
process.stdout.write(`${formatSummary(campaign)}\n`);
process.stdout.write(`${campaign.results.length} scenarios in ${Math.round((Date.now() - started) / 1000)} s\n`);
if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({seed: campaign.seed, totals: campaign.totals, results: campaign.results}, null, 2));
process.exitCode = COUNTERS.some(c => campaign.totals.all[c] > 0) ? 1 : 0;
