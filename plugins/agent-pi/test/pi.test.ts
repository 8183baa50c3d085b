import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {describeAgentConformance} from 'capit/testing';
import pi, {piAgentDir} from '../src/index.js';
import {issue, mode, onlyKey, read, restore, sandbox, useEmulator, write} from '../../../test/support/agent-harness.js';

describeAgentConformance(pi, {platforms: [`openrouter`, `aihubmix`]});

describe(`pi (pure)`, () => {
  it(`finds the agent dir from PI_CODING_AGENT_DIR (with ~ expanded, as pi does) or ~/.pi/agent`, () => {
    const base = {home: `/home/u`, cwd: `/w`, platform: `linux` as const};
    expect(piAgentDir({...base, env: {}})).toBe(`/home/u/.pi/agent`);
    expect(piAgentDir({...base, env: {PI_CODING_AGENT_DIR: `~/pi-conf`}})).toBe(`/home/u/pi-conf`);
    expect(piAgentDir({...base, env: {PI_CODING_AGENT_DIR: `/opt/pi`}})).toBe(`/opt/pi`);
    expect(piAgentDir({env: {}, home: `C:\\Users\\u`, cwd: `C:\\w`, platform: `win32`})).toBe(`C:\\Users\\u\\.pi\\agent`);
  });

  it(`ranks auth.json over OPENROUTER_API_KEY over models.json, as pi 0.73.1 resolves keys`, () => {
    const sources = pi.keySources({env: {}, home: `/h`, cwd: `/w`, platform: `linux`}, `openrouter`);
    expect(sources.filter(s => s.role !== `baseUrl`).map(s => s.kind === `env` ? s.name : `${path.basename(s.path)}:${s.at.join(`.`)}`))
      .toEqual([`auth.json:openrouter.key`, `OPENROUTER_API_KEY`, `models.json:providers.openrouter.apiKey`]);
  });
});

describe(`pi (capit CLI)`, () => {
  const emulator = useEmulator();

  it(`writes the capped key into auth.json (0600, dir 0700), keeps other providers, and restores exactly`, async () => {
    const sb = sandbox(emulator.current);
    const auth = path.join(sb.home, `.pi`, `agent`, `auth.json`);
    const before = `{\n  "anthropic": {"type": "oauth", "access": "x", "refresh": "y", "expires": 1},\n  "openrouter": {"type": "oauth", "access": "old"}\n}\n`;
    write(auth, before, 0o600);
    const result = await issue(sb, `pi`);
    expect(result.exitCode, result.stderr).toBe(0);
    const key = onlyKey(emulator.current);
    const written = JSON.parse(read(auth));
    expect(written.openrouter).toEqual({type: `api_key`, key: key.key});
    expect(written.anthropic).toEqual({type: `oauth`, access: `x`, refresh: `y`, expires: 1});
    expect(mode(auth)).toBe(0o600);
    expect(fs.existsSync(path.join(sb.home, `.pi`, `agent`, `models.json`))).toBe(false);
    expect(result.stdout + result.stderr).not.toContain(key.key);

    expect((await restore(sb, `pi`)).exitCode).toBe(0);
    expect(read(auth)).toBe(before);
  });

  it(`honours PI_CODING_AGENT_DIR and creates auth.json 0600 in a 0700 dir`, async () => {
    const sb = sandbox(emulator.current);
    const dir = path.join(sb.root, `pi-conf`);
    sb.env.PI_CODING_AGENT_DIR = dir;
    const result = await issue(sb, `pi`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(mode(path.join(dir, `auth.json`))).toBe(0o600);
    expect(mode(dir)).toBe(0o700);
    expect(fs.existsSync(path.join(sb.home, `.pi`))).toBe(false);
  });

  it(`restores a fresh install to nothing: auth.json and the dirs capit created are gone`, async () => {
    const sb = sandbox(emulator.current);
    expect((await issue(sb, `pi`)).exitCode).toBe(0);
    expect(fs.existsSync(path.join(sb.home, `.pi`, `agent`, `auth.json`))).toBe(true);
    expect((await restore(sb, `pi`)).exitCode).toBe(0);
    expect(fs.existsSync(path.join(sb.home, `.pi`))).toBe(false);
  });
});
