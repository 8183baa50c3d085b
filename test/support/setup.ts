// Runs before every test file: no test may reach the internet or the real HOME.
import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';
import nock from 'nock';
import {afterAll, afterEach} from 'vitest';

nock.disableNetConnect();
// The loopback emulator and spawned CLIs talk over 127.0.0.1.
nock.enableNetConnect(/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/);

const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), `capit-test-home-`));
for (const key of [`HOME`, `USERPROFILE`, `CAPIT_HOME`, `XDG_CONFIG_HOME`, `XDG_STATE_HOME`, `XDG_DATA_HOME`])
  process.env[key] = key === `HOME` || key === `USERPROFILE` ? sandbox : path.join(sandbox, key.toLowerCase());
for (const key of Object.keys(process.env))
  if (/^(OPENROUTER_|AIHUBMIX_|ANTHROPIC_|CAPIT_(?!HOME|TEST_CACHE)|CLAUDE_CONFIG_DIR|OPENCODE_)/.test(key)) delete process.env[key];

afterEach(() => {
  nock.cleanAll();
});

afterAll(() => {
  fs.rmSync(sandbox, {recursive: true, force: true});
});
