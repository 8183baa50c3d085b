// The harness's checks must be able to fail: each counter trips on a planted fault and stays 0 on a clean install.
import fs   from 'node:fs';
import path from 'node:path';

import {afterEach, describe, expect, it} from 'vitest';

import {AGENTS, writeSeed} from './agents.mjs';
import {internals, runCapit} from './harness.mjs';

const {makeSandbox, makeFindings, agentState, checkCorruption, checkDeletedKeyInstalls, checkOrphans, checkStraySecrets, checkInstallClaim, checkRun, installArgs} = internals;

type Sandbox = Awaited<ReturnType<typeof makeSandbox>>;
let sb: Sandbox | undefined;
afterEach(async () => {
  await sb?.dispose();
  sb = undefined;
});

async function installed(agent: string) {
  sb = await makeSandbox();
  for (const file of AGENTS[agent]!.files(sb.env)) writeSeed(file);
  const before = agentState(sb, agent);
  const r = await runCapit(sb, installArgs(agent));
  expect(r.exitCode, r.stderr).toBe(0);
  return {sb, before, r};
}

describe(`fault harness checks`, () => {
  it(`a clean install into hermes counts nothing`, async () => {
    const {sb, before, r} = await installed(`hermes`);
    const f = makeFindings(`clean`);
    checkRun(f, r, `install`);
    checkInstallClaim(f, sb, `hermes`, r, `install`);
    checkCorruption(f, sb, `hermes`, before, {settled: true, seeded: [true, true], label: `after`});
    checkDeletedKeyInstalls(f, sb, `after`);
    checkOrphans(f, sb, `after`);
    checkStraySecrets(f, sb, `after`);
    expect(f.details).toEqual([]);
  });

  it(`corrupted: a truncated file, lost user settings, and hermes with .env new but config.yaml old`, async () => {
    const {sb, before} = await installed(`hermes`);
    const [envFile, configFile] = AGENTS.hermes!.files(sb.env);
    const newConfig = fs.readFileSync(configFile!.path);

    fs.writeFileSync(configFile!.path, newConfig.subarray(0, 20));
    const truncated = makeFindings(`t`);
    checkCorruption(truncated, sb, `hermes`, before, {settled: false, seeded: [true, true], label: `x`});
    expect(truncated.counters.corrupted).toBe(1);

    fs.writeFileSync(configFile!.path, `model:\n  provider: openrouter\n`);
    const lost = makeFindings(`l`);
    checkCorruption(lost, sb, `hermes`, before, {settled: false, seeded: [true, true], label: `x`});
    expect(lost.details.join()).toMatch(/lost the user's settings/);

    fs.writeFileSync(configFile!.path, before[1]!.entry.bytes!);
    const mixed = makeFindings(`m`);
    checkCorruption(mixed, sb, `hermes`, before, {settled: true, seeded: [true, true], label: `x`});
    expect(mixed.details.join()).toMatch(/mixes old \(config\) and new \(env\)/);
    // Right after a kill a mix is allowed: only the next run must settle it.
    const midFlight = makeFindings(`k`);
    checkCorruption(midFlight, sb, `hermes`, before, {settled: false, seeded: [true, true], label: `x`});
    expect(midFlight.counters.corrupted).toBe(0);
    expect(fs.existsSync(envFile!.path)).toBe(true);
  });

  it(`deleted-key installs and false successes: the agent holds a key the provider deleted`, async () => {
    const {sb, r} = await installed(`opencode`);
    const id = JSON.parse(r.stdout).id as string;
    sb.emu.removeKey(id);
    const f = makeFindings(`d`);
    checkDeletedKeyInstalls(f, sb, `x`);
    checkInstallClaim(f, sb, `opencode`, r, `x`);
    expect(f.counters).toMatchObject({deletedKeyInstalls: 1, falseSuccesses: 1});
  });

  it(`orphans: a live capit key in no file and not settled in the ledger; stray secrets: a temp file holding it`, async () => {
    const {sb} = await installed(`opencode`);
    const orphan = sb.emu.createKey({name: `opencode-0badc0de`, limit: 5});
    sb.emu.createKey({name: `seed-0`, limit: 5}); // the harness's own keys are not capit's
    const f = makeFindings(`o`);
    checkOrphans(f, sb, `x`);
    expect(f.counters.orphans).toBe(1);
    expect(f.details.join()).toMatch(/opencode-0badc0de/);

    const auth = AGENTS.opencode!.files(sb.env)[0]!.path;
    fs.writeFileSync(`${auth}.1234567`, `{"openrouter":{"type":"api","key":"${orphan.key}"}}`);
    const g = makeFindings(`s`);
    checkStraySecrets(g, sb, `x`);
    expect(g.details.join()).toMatch(/auth\.json\.1234567 holds a full issued key/);
    // A backup copy of the user's old bytes is not a stray secret; anything else in the state dir is.
    fs.rmSync(`${auth}.1234567`);
    fs.writeFileSync(path.join(sb.stateDir, `debug.log`), orphan.key);
    const h = makeFindings(`s2`);
    checkStraySecrets(h, sb, `x`);
    expect(h.counters.straySecrets).toBe(1);
  });

  it(`stack traces and hangs are counted`, async () => {
    sb = await makeSandbox();
    const f = makeFindings(`s`);
    checkRun(f, {args: [], exitCode: 1, signal: null, stdout: ``, stderr: `capit: internal error — this is a bug\nRangeError: x\n    at f (file.js:1:2)\n`, killed: false, hung: false, ms: 1}, `x`);
    checkRun(f, {args: [], exitCode: null, signal: `SIGKILL`, stdout: ``, stderr: ``, killed: false, hung: true, ms: 1}, `y`);
    expect(f.counters).toMatchObject({stackTraces: 1, hangs: 1});
  });
});
