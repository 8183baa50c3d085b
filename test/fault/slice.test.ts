// A small slice of the fault harness in `npm test`: 20 kill -9s across every file shape, each provider fault kind once,
// each hostile-file kind once. Every counter must be 0. The seed is fixed (and in the test name) so a failure replays
// with `node test/fault/soak.mjs --seed <seed> --kills 20 --only <scenario>`; CAPIT_FAULT_SEED picks another one.
import {describe, expect, it} from 'vitest';

import {COUNTERS, COUNTER_TITLES, formatSummary, runCampaign} from './harness.mjs';

const SEED = Number(process.env.CAPIT_FAULT_SEED ?? 20261130);

describe(`fault harness slice`, () => {
  it(`seed ${SEED}: 20 kills, every fault kind, every hostile file kind — every counter is 0`, async () => {
    const campaign = await runCampaign({seed: SEED, kills: 20, sliceFaults: true, sliceHostile: true, concurrency: 2});
    const summary = formatSummary(campaign);
    expect(campaign.results.length).toBeGreaterThanOrEqual(20);
    for (const counter of COUNTERS) expect.soft(campaign.totals.all[counter], `${COUNTER_TITLES[counter]}\n${summary}`).toBe(0);
  }, 600_000);
});
