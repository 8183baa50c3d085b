import {spawn} from 'node:child_process';
import fs       from 'node:fs';
import {createRequire} from 'node:module';
import path     from 'node:path';

import {describe, expect, it} from 'vitest';

import {issue, managementRequests, mode, onlyKey, read, restore, sandbox, snapshotTree, useEmulator, warnings, write} from '../../../test/support/agent-harness.js';

const emulator = useEmulator();
const settingsOf = (home: string) => path.join(home, `.claude`, `settings.json`);

describe(`capit openrouter 5 --agent claude`, () => {
  it(`installs into an empty HOME: env block with the loopback base, the key and an empty API key; 0600`, async () => {
    const sb = sandbox(emulator.current);
    const result = await issue(sb, `claude`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(`$5.00 openrouter key installed into claude\n`);
    expect(warnings(result)).toEqual([]);
    expect(result.stderr).toContain(`run /logout`);

    const key = onlyKey(emulator.current);
    expect(key.name).toMatch(/^claude-[0-9a-f]{8}$/);
    const file = settingsOf(sb.home);
    expect(JSON.parse(read(file))).toEqual({env: {
      ANTHROPIC_BASE_URL: `http://127.0.0.1:${emulator.current.port}/api`,
      ANTHROPIC_AUTH_TOKEN: key.key,
      ANTHROPIC_API_KEY: ``,
    }});
    expect(mode(file)).toBe(0o600);
    expect(mode(path.dirname(file))).toBe(0o700);
    expect(result.stdout + result.stderr).not.toContain(key.key);
    // Never the OAuth login or the global state.
    expect(fs.existsSync(path.join(sb.home, `.claude`, `.credentials.json`))).toBe(false);
    expect(fs.existsSync(path.join(sb.home, `.claude.json`))).toBe(false);
  });

  it(`keeps a rich settings.json byte for byte except the three env values, and restores it exactly`, async () => {
    const sb = sandbox(emulator.current);
    const file = settingsOf(sb.home);
    const original = [
      `{`,
      `\t"$schema": "https://json.schemastore.org/claude-code-settings.json",`,
      `\t"model": "opus",`,
      `\t"permissions": {"allow": ["Bash(npm run test:*)"], "deny": ["Read(./.env)"]},`,
      `\t"env": {`,
      `\t\t"ANTHROPIC_BASE_URL": "https://gateway.example.invalid",`,
      `\t\t"DISABLE_TELEMETRY": "1",`,
      `\t\t"ANTHROPIC_AUTH_TOKEN": "fake-old-token-0000",`,
      `\t\t"ANTHROPIC_API_KEY": "sk-ant-fake-old-0000",`,
      `\t\t"ANTHROPIC_MODEL": "anthropic/claude-sonnet-4.5"`,
      `\t},`,
      `\t"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "echo hi"}]}]},`,
      `\t"statusLine": {"type": "command", "command": "~/.claude/status.sh"}`,
      `}`,
      ``,
    ].join(`\n`);
    write(file, original, 0o644);
    const otherFiles = {
      [path.join(sb.home, `.claude`, `.credentials.json`)]: `{"claudeAiOauth": {"accessToken": "fake-oauth-0000"}}\n`,
      [path.join(sb.home, `.claude.json`)]: `{"primaryApiKey": "sk-ant-fake-primary-0000"}\n`,
    };
    for (const [p, t] of Object.entries(otherFiles)) write(p, t, 0o600);

    const result = await issue(sb, `claude`);
    expect(result.exitCode).toBe(0);
    const key = onlyKey(emulator.current);
    const base = `http://127.0.0.1:${emulator.current.port}/api`;
    expect(read(file)).toBe(original
      .replace(`"https://gateway.example.invalid"`, JSON.stringify(base))
      .replace(`"fake-old-token-0000"`, JSON.stringify(key.key))
      .replace(`"sk-ant-fake-old-0000"`, `""`));
    expect(mode(file)).toBe(0o600);
    for (const [p, t] of Object.entries(otherFiles)) expect(read(p)).toBe(t);

    const restored = await restore(sb, `claude`);
    expect(restored.exitCode).toBe(0);
    expect(read(file)).toBe(original);
    expect(mode(file)).toBe(0o644);
  });

  it(`adds missing env entries next to the user's own, keeping the rest`, async () => {
    const sb = sandbox(emulator.current);
    const file = settingsOf(sb.home);
    const text = `{\n    "env": {\n        "HTTPS_PROXY": "http://proxy.invalid:3128"\n    },\n    "includeCoAuthoredBy": false\n}\n`;
    write(file, text);
    expect((await issue(sb, `claude`)).exitCode).toBe(0);
    const key = onlyKey(emulator.current);
    const after = read(file);
    expect(after.startsWith(`{\n    "env": {\n        "HTTPS_PROXY": "http://proxy.invalid:3128",\n        "ANTHROPIC_BASE_URL": `)).toBe(true);
    expect(after.endsWith(`\n    },\n    "includeCoAuthoredBy": false\n}\n`)).toBe(true);
    expect(JSON.parse(after)).toEqual({
      env: {HTTPS_PROXY: `http://proxy.invalid:3128`, ANTHROPIC_BASE_URL: `http://127.0.0.1:${emulator.current.port}/api`, ANTHROPIC_AUTH_TOKEN: key.key, ANTHROPIC_API_KEY: ``},
      includeCoAuthoredBy: false,
    });
    expect((await restore(sb, `claude`)).exitCode).toBe(0);
    expect(read(file)).toBe(text);
  });

  it(`restore removes a settings.json that capit created`, async () => {
    const sb = sandbox(emulator.current);
    expect((await issue(sb, `claude`)).exitCode).toBe(0);
    expect((await restore(sb, `claude`)).exitCode).toBe(0);
    expect(fs.existsSync(settingsOf(sb.home))).toBe(false);
  });

  it(`refuses an unparseable settings.json before creating a key, leaving it untouched`, async () => {
    const sb = sandbox(emulator.current);
    const file = settingsOf(sb.home);
    const broken = `{"env": {"ANTHROPIC_AUTH_TOKEN": "fake-old-token-0000",}\n`;
    write(file, broken);
    const before = snapshotTree(sb.home);
    const result = await issue(sb, `claude`);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`${file} is not valid`);
    expect(result.stderr).not.toContain(`fake-old-token-0000`);
    expect(snapshotTree(sb.home)).toEqual(before);
    expect(managementRequests(emulator.current)).toEqual([]);
    expect(emulator.current.state.keys.size).toBe(0);
  });

  it(`honours CLAUDE_CONFIG_DIR`, async () => {
    const sb = sandbox(emulator.current);
    const dir = path.join(sb.root, `claude-config`);
    sb.env.CLAUDE_CONFIG_DIR = dir;
    expect((await issue(sb, `claude`)).exitCode).toBe(0);
    const key = onlyKey(emulator.current);
    expect(JSON.parse(read(path.join(dir, `settings.json`))).env.ANTHROPIC_AUTH_TOKEN).toBe(key.key);
    expect(fs.existsSync(path.join(sb.home, `.claude`))).toBe(false);
  });

  it(`warns about a project settings file that overrides the token, and about a cloud-provider switch`, async () => {
    const sb = sandbox(emulator.current, {CLAUDE_CODE_USE_BEDROCK: `1`});
    const project = path.join(sb.root, `project`);
    const local = path.join(project, `.claude`, `settings.local.json`);
    write(local, `{"env": {"ANTHROPIC_AUTH_TOKEN": "fake-project-token-0000"}}\n`);
    const result = await issue(sb, `claude`, {cwd: project});
    expect(result.exitCode).toBe(0);
    const lines = warnings(result);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(`environment variable CLAUDE_CODE_USE_BEDROCK`);
    expect(lines[1]).toContain(`${local} (env.ANTHROPIC_AUTH_TOKEN) is set and wins over what capit wrote`);
    expect(result.stderr).not.toContain(`fake-project-token-0000`);
  });

  it(`does not warn about ANTHROPIC_AUTH_TOKEN / ANTHROPIC_API_KEY in the shell (settings.json env overrides them)`, async () => {
    const sb = sandbox(emulator.current, {ANTHROPIC_AUTH_TOKEN: `fake-shell-token-0000`, ANTHROPIC_API_KEY: `sk-ant-fake-shell-0000`});
    const result = await issue(sb, `claude`);
    expect(result.exitCode).toBe(0);
    expect(warnings(result)).toEqual([]);
    expect(result.stderr).toContain(`ANTHROPIC_API_KEY from your shell is blanked for Claude by settings.json`);
    expect(result.stderr).not.toContain(`sk-ant-fake-shell-0000`);
  });
});

// The real Claude Code (pinned pure-JS 2.1.112 in the test workspace) must send the capped key to the emulator, and
// must not leak a shell ANTHROPIC_API_KEY as x-api-key.
const require = createRequire(import.meta.url);
let claudeCli: string | undefined;
try {
  claudeCli = require.resolve(`@anthropic-ai/claude-code/cli.js`);
} catch {
  claudeCli = undefined;
}

describe.skipIf(!claudeCli)(`the real Claude Code after capit`, () => {
  it(`calls the emulator's /api/v1/messages with the capped key as Bearer and no x-api-key`, async () => {
    const sb = sandbox(emulator.current, {ANTHROPIC_API_KEY: `sk-ant-fake-shell-0000`});
    expect((await issue(sb, `claude`)).exitCode).toBe(0);
    const key = onlyKey(emulator.current);

    const env = {...sb.env, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: `1`, DISABLE_AUTOUPDATER: `1`};
    const out = await new Promise<{code: number | null; stdout: string; stderr: string}>((resolve, reject) => {
      const child = spawn(process.execPath, [claudeCli!, `-p`, `say hi`, `--model`, `anthropic/claude-sonnet-4.5`], {env, cwd: sb.home});
      let stdout = ``;
      let stderr = ``;
      child.stdout.on(`data`, d => (stdout += d));
      child.stderr.on(`data`, d => (stderr += d));
      const timer = setTimeout(() => child.kill(`SIGKILL`), 60_000);
      child.on(`error`, reject);
      child.on(`close`, code => {
        clearTimeout(timer);
        resolve({code, stdout, stderr});
      });
      child.stdin.end();
    });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`Hello from the capit emulator`);
    const messages = emulator.current.state.requests.filter(r => r.path === `/api/v1/messages`);
    expect(messages.length).toBeGreaterThan(0);
    for (const r of messages) {
      expect(r.authorization).toBe(`Bearer ${key.key}`);
      expect(r.xApiKey).toBeNull();
      expect(r.keyHash).toBe(key.hash);
    }
  }, 90_000);
});
