// The hostile-file corpus: for each agent file, the shapes a user's disk can really hold. capit must refuse each one
// in one line (exit 1, nothing created) or handle it correctly — never a stack trace, never a block on a FIFO, never
// a changed file on refusal, never a "installed" that the agent's own parser would not see.
import {execFileSync} from 'node:child_process';
import fs   from 'node:fs';
import path from 'node:path';

import {AGENTS} from './agents.mjs';

const MIB = 1024 * 1024;

/** JSON files: the same user data with the top-level key capit edits written twice (first value loses in JSON.parse). */
const DUPLICATES = {
  'opencode/auth': `{
  "openrouter": {"type": "api", "key": "sk-or-v1-fake-dup-0001"},
  "anthropic": {"type": "api", "key": "sk-ant-fake-user-0001"},
  "openrouter": {"type": "api", "key": "sk-or-v1-fake-dup-0002"}
}
`,
  'claude/settings': `{
  "model": "opus",
  "env": {"FOO": "bar"},
  "permissions": {"allow": ["Bash(ls:*)"]},
  "env": {"FOO": "bar", "ANTHROPIC_AUTH_TOKEN": "sk-or-v1-fake-dup-0003"}
}
`,
  'hermes/env': `OPENROUTER_API_KEY=sk-or-v1-fake-dup-0004
OTHER_SETTING=1
OPENROUTER_API_KEY=sk-or-v1-fake-dup-0005
`,
  'hermes/config': `model:
  default: anthropic/claude-sonnet-4.5
  provider: anthropic
toolsets:
  - web
model:
  default: anthropic/claude-sonnet-4.5
  provider: anthropic
`,
  'cline/providers': `{
  "version": 1,
  "providers": {"openrouter": {"settings": {"provider": "openrouter", "apiKey": "sk-or-v1-fake-dup-0006"}}},
  "lastUsedProvider": "anthropic",
  "providers": {"anthropic": {"settings": {"provider": "anthropic", "apiKey": "sk-ant-fake-user-0003"}}}
}
`,
  'cline/secrets': `{
  "openRouterApiKey": "sk-or-v1-fake-dup-0007",
  "anthropicApiKey": "sk-ant-fake-user-0003",
  "openRouterApiKey": "sk-or-v1-fake-dup-0008"
}
`,
  'cline/globalState': `{
  "actModeApiProvider": "anthropic",
  "planModeApiProvider": "anthropic",
  "telemetrySetting": "disabled",
  "actModeApiProvider": "openai"
}
`,
  'codex/config': `model = "gpt-5"
[model_providers.mine]
name = "Mine"
[model_providers.mine]
name = "Again"
`,
};

function invalidText(format) {
  if (format === `json`) return `{"openrouter": {"type": "api",\n`;
  if (format === `yaml`) return `model: [unclosed\n  provider: : :\n`;
  if (format === `toml`) return `model = "unterminated\n[model_providers\n`;
  return `OPENROUTER_API_KEY="unterminated\nOTHER_SETTING=1\n`;
}

function deepText(format) {
  const open = `[`.repeat(10_000);
  const close = `]`.repeat(10_000);
  return format === `json` ? `{"deep": ${open}${close}}\n` : format === `toml` ? `deep = ${open}${close}\n` : `deep: ${open}${close}\n`;
}

function hugeText(file) {
  const pad = `a`.repeat(20 * MIB);
  if (file.format === `json`) return file.seed.replace(/^\{/, `{\n  "padding": "${pad}",`);
  if (file.format === `yaml`) return `padding: ${pad}\n${file.seed}`;
  if (file.format === `toml`) return `padding = "${pad}"\n${file.seed}`;
  return `PADDING=${pad}\n${file.seed}`;
}

function notUtf8(file) {
  // One Latin-1 byte (0xE9) inside a comment-free string value / line: valid in every format except as UTF-8.
  const text = file.format === `dotenv` ? `${file.seed}CAFE=caf\u00e9\n` : file.format === `yaml` ? `${file.seed}cafe: caf\u00e9\n` : file.format === `toml` ? `cafe = "caf\u00e9"\n${file.seed}` : file.seed.replace(/^\{/, `{\n  "cafe": "caf\u00e9",`);
  return Buffer.from(text, `latin1`);
}

/** Seeded garbage with NULs and invalid UTF-8, the same bytes every run. */
function garbage() {
  const out = Buffer.alloc(4096);
  let x = 0x12345678;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const replaceWith = (file, data, mode) => {
  fs.rmSync(file.path, {recursive: true, force: true});
  fs.mkdirSync(path.dirname(file.path), {recursive: true});
  fs.writeFileSync(file.path, data, mode === undefined ? {} : {mode});
};

/** kind → (file, sandbox) => void, or null when the kind does not apply to that format. */
const MAKERS = {
  'invalid': file => replaceWith(file, invalidText(file.format)),
  'duplicate-keys': (file, _sb, key) => replaceWith(file, DUPLICATES[key]),
  'deep-nesting': file => (file.format === `dotenv` ? null : replaceWith(file, deepText(file.format))),
  'huge-20mib': file => replaceWith(file, hugeText(file)),
  'self-symlink': file => {
    fs.rmSync(file.path, {force: true});
    fs.symlinkSync(path.basename(file.path), file.path);
  },
  'symlink-loop': file => {
    fs.rmSync(file.path, {force: true});
    fs.symlinkSync(`${path.basename(file.path)}.loop`, file.path);
    fs.symlinkSync(path.basename(file.path), `${file.path}.loop`);
  },
  'dangling-symlink': (file, sb) => {
    fs.rmSync(file.path, {force: true});
    fs.symlinkSync(path.join(sb.home, `missing-folder`, `deeper`, path.basename(file.path)), file.path);
  },
  'directory': file => {
    fs.rmSync(file.path, {force: true});
    fs.mkdirSync(file.path);
    fs.writeFileSync(path.join(file.path, `inside`), `x`);
  },
  'fifo': file => {
    fs.rmSync(file.path, {force: true});
    execFileSync(`mkfifo`, [file.path]);
  },
  'binary-garbage': file => replaceWith(file, garbage()),
  'bom': file => replaceWith(file, `\uFEFF${file.seed}`),
  'crlf': file => replaceWith(file, file.seed.replace(/\n/g, `\r\n`)),
  'read-only': file => {
    replaceWith(file, file.seed);
    fs.chmodSync(file.path, 0o444);
  },
  'empty': file => replaceWith(file, ``),
  'whitespace': file => replaceWith(file, `  \n\t\n`),
  'not-utf8': file => replaceWith(file, notUtf8(file)),
  'parent-is-file': file => {
    const parent = path.dirname(file.path);
    fs.rmSync(parent, {recursive: true, force: true});
    fs.writeFileSync(parent, `a file where a folder should be\n`);
  },
};

export const HOSTILE_KINDS = Object.keys(MAKERS);

/** Every (agent file × hostile kind) that applies. */
export function hostileCases() {
  const out = [];
  const fakeEnv = {HOME: `/h`, XDG_DATA_HOME: `/h/d`, XDG_CONFIG_HOME: `/h/c`, XDG_STATE_HOME: `/h/s`};
  for (const [agent, spec] of Object.entries(AGENTS))
    for (const file of spec.files(fakeEnv))
      for (const kind of HOSTILE_KINDS) {
        if (kind === `deep-nesting` && file.format === `dotenv`) continue;
        const key = `${agent}/${file.id}`;
        out.push({agent, fileId: file.id, hostileKind: kind, make: (target, sb) => MAKERS[kind](target, sb, key)});
      }
  return out;
}
