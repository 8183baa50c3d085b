// `capit serve`: the "Top up" action on an agent holding a capit key calls the same core functions as `capit topup`.
import fs   from 'node:fs';
import path from 'node:path';

import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';

import {startEmulator}  from '../emulator/server.mjs';
import type {Emulator}  from '../emulator/server.mjs';
import {runCli}         from '../support/cli.js';
import {post, raw, setupHome, startGui} from './helpers.js';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({port: 0});
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
});

describe(`POST /api/topup`, () => {
  it(`raises the key an agent holds, verified and audited; a bad amount or a ceiling is a 400 with nothing sent`, async () => {
    const {env} = setupHome(emulator);
    const installed = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    const [key] = [...emulator.state.keys.values()];
    const server = await startGui(env);

    // The page offers the action on agents with an install.
    const agents = (await raw(server, `/api/agents`)).json.agents as {id: string; installed: unknown}[];
    expect(agents.find(a => a.id === `opencode`)!.installed).toBeTruthy();

    const res = await post(server, `/api/topup`, {target: `opencode`, amount: `2.5`, for: `2h`});
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({keyName: key!.name, agent: `opencode`, oldCapUsd: 5, newCapUsd: 7.5});
    expect(emulator.state.keys.get(key!.hash)!.limit).toBe(7.5);
    const auditLines = fs.readFileSync(path.join(env.XDG_STATE_HOME!, `capit`, `audit.jsonl`), `utf8`).trim().split(`\n`);
    expect(auditLines.map(l => JSON.parse(l).action)).toEqual([`topup`]);

    const requests = emulator.state.requests.length;
    const bad = await post(server, `/api/topup`, {target: `opencode`, amount: `-1`});
    expect(bad.status).toBe(400);
    fs.mkdirSync(path.join(env.XDG_CONFIG_HOME!, `capit`), {recursive: true});
    fs.writeFileSync(path.join(env.XDG_CONFIG_HOME!, `capit`, `config.json`), JSON.stringify({topup: {maxUsd: 1}}));
    const over = await post(server, `/api/topup`, {target: `opencode`, amount: `2`});
    expect(over.status).toBe(400);
    expect(over.json.error.message).toMatch(/ceiling/);
    expect(emulator.state.requests.length).toBe(requests);
  });

  it(`the running GUI takes a due raise back before its next request`, async () => {
    const {env} = setupHome(emulator);
    expect((await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env})).exitCode).toBe(0);
    const [key] = [...emulator.state.keys.values()];
    const server = await startGui(env);
    const res = await post(server, `/api/topup`, {target: `opencode`, amount: `4`, for: `1s`});
    expect(res.status, res.text).toBe(200);
    expect(emulator.state.keys.get(key!.hash)!.limit).toBe(9);
    await new Promise(resolve => setTimeout(resolve, 1_200));
    const listed = await raw(server, `/api/keys`);
    expect(listed.status).toBe(200);
    expect(emulator.state.keys.get(key!.hash)!.limit).toBe(5);
    expect(listed.json.keys[0].capUsd).toBe(5);
    expect(server.stderr.text()).toContain(`took back the $4.00 top-up on ${key!.name} (opencode): cap $9.00 → $5.00`);
  });
});
