// `keys list` and `doctor` warn 7, 3 and 1 days before a key expires: one line per key in text, a field in --json.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {capit, sandbox, useEmulator, warnings} from '../support/agent-harness.js';

const emulator = useEmulator();

const HOUR = 3_600_000;
/** An expiry `hours` from now, as OpenRouter writes it (UTC, no milliseconds). */
const inHours = (hours: number) => new Date(Date.now() + hours * HOUR).toISOString().replace(/\.\d{3}Z$/, `Z`);

interface JsonKey {name: string; expiresAt: string | null; expiryWarningDays: number | null; status: string}

describe(`expiry warnings`, () => {
  it(`keys list warns at 7, 3 and 1 days, not before, not for expired or never-expiring keys`, async () => {
    const sb = sandbox(emulator.current);
    const seeds: [string, string | null][] = [
      [`in-12h`, inHours(12)], [`in-2d`, inHours(48)], [`in-5d`, inHours(120)], [`in-10d`, inHours(240)], [`never`, null],
    ];
    for (const [prefix, expires_at] of seeds) emulator.current.seedKeys(1, {prefix, expires_at});
    // Expired a minute ago: inserted directly, since the API refuses a past expiry.
    emulator.current.seedKeys(1, {prefix: `gone`, expires_at: inHours(1)});
    const gone = [...emulator.current.state.keys.values()].find(k => k.name === `gone-0`)!;
    gone.expires_at = new Date(Date.now() - 60_000).toISOString();

    const json = await capit([`keys`, `list`, `--all`, `--json`], {env: sb.env});
    expect(json.exitCode).toBe(0);
    const days = Object.fromEntries((JSON.parse(json.stdout) as {keys: JsonKey[]}).keys.map(k => [k.name, k.expiryWarningDays]));
    expect(days).toEqual({[`in-12h-0`]: 1, [`in-2d-0`]: 3, [`in-5d-0`]: 7, [`in-10d-0`]: null, [`never-0`]: null, [`gone-0`]: null});
    expect(json.stderr).toBe(``);

    const text = await capit([`keys`, `list`, `--all`], {env: sb.env});
    expect(text.exitCode).toBe(0);
    const lines = warnings(text).sort();
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^warning: key in-12h-0 \(openrouter\) expires within 1 day, at \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
    expect(lines[1]).toMatch(/^warning: key in-2d-0 \(openrouter\) expires within 3 days, at /);
    expect(lines[2]).toMatch(/^warning: key in-5d-0 \(openrouter\) expires within 7 days, at /);
    // The table itself is unchanged: the warnings go to stderr.
    expect(text.stdout).not.toContain(`warning`);
  });

  it(`a capit run session key, meant to expire soon, gets no expiry warning`, async () => {
    const sb = sandbox(emulator.current);
    emulator.current.seedKeys(1, {prefix: `openclaw-run`, expires_at: inHours(8)});
    const key = [...emulator.current.state.keys.values()].find(k => k.name === `openclaw-run-0`)!;
    const stateDir = path.join(sb.env.XDG_STATE_HOME!, `capit`);
    fs.mkdirSync(stateDir, {recursive: true});
    fs.writeFileSync(path.join(stateDir, `ledger.json`), JSON.stringify({version: 1, keys: [{
      id: key.hash, name: key.name, platform: `openrouter`, agent: `openclaw`, capUsd: 1, reset: null, expiresAt: key.expires_at,
      createdAt: new Date().toISOString(), status: `active`, files: [], backupDir: null, session: true,
    }]}));
    const json = await capit([`keys`, `list`, `--json`], {env: sb.env});
    expect(json.exitCode, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as {keys: JsonKey[]}).keys.map(k => [k.name, k.expiryWarningDays])).toEqual([[key.name, null]]);
    const text = await capit([`keys`, `list`], {env: sb.env});
    expect(warnings(text)).toEqual([]);
  });

  it(`doctor warns for the installed key from capit's ledger, and names the agent in keys list`, async () => {
    const sb = sandbox(emulator.current);
    expect((await capit([`openrouter`, `5`, `--agent`, `opencode`, `--expires`, `2d`, `--yes`], {env: sb.env})).exitCode).toBe(0);
    const [key] = [...emulator.current.state.keys.values()];

    const doctor = await capit([`doctor`, `opencode`], {env: sb.env});
    expect(doctor.exitCode).toBe(0);
    expect(doctor.stdout).toMatch(new RegExp(`\\n {10}warning: key ${key!.name} expires within 3 days, at \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC\\n$`));
    const [report] = JSON.parse((await capit([`doctor`, `opencode`, `--json`], {env: sb.env})).stdout) as {expiryWarningDays: number | null; expiryWarning: string | null}[];
    expect(report).toMatchObject({expiryWarningDays: 3, expiryWarning: expect.stringContaining(`key ${key!.name} expires within 3 days`)});

    const list = await capit([`keys`, `list`], {env: sb.env});
    expect(warnings(list)).toEqual([expect.stringMatching(new RegExp(`^warning: key ${key!.name} \\(openrouter, opencode\\) expires within 3 days`))]);

    // A key without an expiry: no warning, null fields.
    const other = sandbox(emulator.current);
    expect((await capit([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env: other.env})).exitCode).toBe(0);
    const plain = await capit([`doctor`, `opencode`], {env: other.env});
    expect(plain.stdout).not.toContain(`warning`);
    const [none] = JSON.parse((await capit([`doctor`, `opencode`, `--json`], {env: other.env})).stdout) as {expiryWarningDays: number | null; expiryWarning: string | null}[];
    expect(none).toMatchObject({expiryWarningDays: null, expiryWarning: null});
  });
});
