// The agents the fault harness installs into, one per file shape: single JSON (opencode), JSON with user settings
// (claude), .env + YAML (hermes), the multi-file Cline layout and TOML with the user's own tables (codex). For each file: where it lives in a sandbox, the
// bytes a user already has, and how to tell "capit's new content" from "the user's old content" from "broken".
import fs   from 'node:fs';
import path from 'node:path';
import {isDeepStrictEqual} from 'node:util';
import YAML from 'yaml';
import {parse as parseToml} from '@decimalturn/toml-patch';

/** A secret the emulator issued: `sk-or-v1-` + 64 hex. The harness's own fake keys never match it. */
export const ISSUED_SECRET = /sk-or-v1-[0-9a-f]{64}/g;
export const isIssuedSecret = value => typeof value === `string` && /^sk-or-v1-[0-9a-f]{64}$/.test(value);

/** The user's data every file starts with (a fake old key included) and that capit must keep. */
const OPENCODE_AUTH = `{
  "anthropic": {
    "type": "api",
    "key": "sk-ant-fake-user-0001"
  },
  "openrouter": {
    "type": "api",
    "key": "sk-or-v1-fake-old-0001"
  }
}
`;
const CLAUDE_SETTINGS = `{
  "model": "opus",
  "env": {
    "FOO": "bar"
  },
  "permissions": {
    "allow": ["Bash(ls:*)"]
  }
}
`;
const HERMES_ENV = `# Hermes keys
OPENROUTER_API_KEY=sk-or-v1-fake-old-0002
OTHER_SETTING=1
`;
const HERMES_CONFIG = `# my Hermes config
model:
  default: anthropic/claude-sonnet-4.5
  provider: anthropic
toolsets:
  - web
`;
const CLINE_PROVIDERS = `{
  "version": 1,
  "lastUsedProvider": "anthropic",
  "providers": {
    "anthropic": {
      "settings": {
        "provider": "anthropic",
        "apiKey": "sk-ant-fake-user-0003"
      }
    }
  }
}
`;
const CLINE_SECRETS = `{
  "anthropicApiKey": "sk-ant-fake-user-0003"
}
`;
const CLINE_GLOBAL_STATE = `{
  "actModeApiProvider": "anthropic",
  "planModeApiProvider": "anthropic",
  "telemetrySetting": "disabled"
}
`;

const CODEX_CONFIG = `# my Codex config
model = "gpt-5"
model_provider = "mine"

[model_providers.mine]   # my own proxy
name = "Mine"
base_url = "http://127.0.0.1:9/v1"
env_key = "MINE_KEY"
`;

/** `KEY=value` lines, last one wins (python-dotenv with override=True, as Hermes loads it). */
export function parseDotenv(text) {
  const out = {};
  for (const raw of text.replace(/^\uFEFF/, ``).split(/\r?\n/)) {
    const line = raw.trim();
    if (line === `` || line.startsWith(`#`)) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`not a KEY=value line: ${JSON.stringify(line.slice(0, 40))}`);
    let value = m[2];
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[2];
    else value = value.replace(/\s+#.*$/, ``);
    out[m[1]] = value;
  }
  return out;
}

/** Parses as the agent would: JSON.parse (last duplicate wins), YAML (last duplicate wins), dotenv. Throws when it does not parse. */
export function parseAs(format, text) {
  const body = text.replace(/^\uFEFF/, ``);
  if (format === `json`) return body.trim() === `` ? {} : JSON.parse(body);
  if (format === `yaml`) return YAML.parse(body, {uniqueKeys: false}) ?? {};
  if (format === `toml`) return parseToml(body);
  return parseDotenv(body);
}

const get = (obj, p) => p.reduce((o, k) => (o !== null && typeof o === `object` ? o[k] : undefined), obj);

/**
 * Per file: `secretAt` is where capit's key lands (secret files); `isNew(parsed)` says the file holds capit's new
 * content; `keeps(parsed)` says the user's own settings survived (checked only when the file was seeded).
 */
export const AGENTS = {
  opencode: {
    files: env => [{
      id: `auth`, path: path.join(env.XDG_DATA_HOME, `opencode`, `auth.json`), format: `json`, seed: OPENCODE_AUTH,
      secretAt: [`openrouter`, `key`],
      isNew: o => get(o, [`openrouter`, `type`]) === `api`,
      keeps: o => isDeepStrictEqual(o.anthropic, {type: `api`, key: `sk-ant-fake-user-0001`}),
    }],
  },
  claude: {
    files: env => [{
      id: `settings`, path: path.join(env.HOME, `.claude`, `settings.json`), format: `json`, seed: CLAUDE_SETTINGS,
      secretAt: [`env`, `ANTHROPIC_AUTH_TOKEN`],
      isNew: o => typeof get(o, [`env`, `ANTHROPIC_BASE_URL`]) === `string` && get(o, [`env`, `ANTHROPIC_API_KEY`]) === ``,
      keeps: o => o.model === `opus` && get(o, [`env`, `FOO`]) === `bar` && isDeepStrictEqual(o.permissions, {allow: [`Bash(ls:*)`]}),
    }],
  },
  hermes: {
    files: env => [
      {
        id: `env`, path: path.join(env.HOME, `.hermes`, `.env`), format: `dotenv`, seed: HERMES_ENV,
        secretAt: [`OPENROUTER_API_KEY`],
        isNew: () => true,
        keeps: o => o.OTHER_SETTING === `1`,
      },
      {
        id: `config`, path: path.join(env.HOME, `.hermes`, `config.yaml`), format: `yaml`, seed: HERMES_CONFIG,
        isNew: o => get(o, [`model`, `provider`]) === `openrouter`,
        keeps: o => get(o, [`model`, `default`]) === `anthropic/claude-sonnet-4.5` && isDeepStrictEqual(o.toolsets, [`web`]),
      },
    ],
  },
  cline: {
    files: env => {
      const data = path.join(env.HOME, `.cline`, `data`);
      return [
        {
          id: `providers`, path: path.join(data, `settings`, `providers.json`), format: `json`, seed: CLINE_PROVIDERS,
          secretAt: [`providers`, `openrouter`, `settings`, `apiKey`],
          isNew: o => o.lastUsedProvider === `openrouter` && get(o, [`providers`, `openrouter`, `settings`, `provider`]) === `openrouter`,
          keeps: o => get(o, [`providers`, `anthropic`, `settings`, `apiKey`]) === `sk-ant-fake-user-0003`,
        },
        {
          id: `secrets`, path: path.join(data, `secrets.json`), format: `json`, seed: CLINE_SECRETS,
          secretAt: [`openRouterApiKey`],
          isNew: () => true,
          keeps: o => o.anthropicApiKey === `sk-ant-fake-user-0003`,
        },
        {
          id: `globalState`, path: path.join(data, `globalState.json`), format: `json`, seed: CLINE_GLOBAL_STATE,
          isNew: o => o.actModeApiProvider === `openrouter` && o.planModeApiProvider === `openrouter`,
          keeps: o => o.telemetrySetting === `disabled`,
        },
      ];
    },
  },
  codex: {
    files: env => [{
      id: `config`, path: path.join(env.HOME, `.codex`, `config.toml`), format: `toml`, seed: CODEX_CONFIG,
      secretAt: [`model_providers`, `capit-openrouter`, `experimental_bearer_token`],
      isNew: o => o.model_provider === `capit-openrouter`,
      // The TOML parser returns null-prototype tables: compare their entries.
      keeps: o => o.model === `gpt-5` && isDeepStrictEqual({...o.model_providers?.mine}, {name: `Mine`, base_url: `http://127.0.0.1:9/v1`, env_key: `MINE_KEY`}),
    }],
  },
};

export const AGENT_IDS = Object.keys(AGENTS);

export function writeSeed(file, text = file.seed) {
  fs.mkdirSync(path.dirname(file.path), {recursive: true});
  fs.writeFileSync(file.path, text, {mode: file.secretAt ? 0o600 : 0o644});
}

/** The bytes at a path without ever opening a FIFO or following a symlink loop: {type, bytes?, link?}. */
export function readEntry(p) {
  let st;
  try {
    st = fs.lstatSync(p);
  } catch (err) {
    if (err.code === `ENOENT` || err.code === `ENOTDIR`) return {type: `absent`};
    throw err;
  }
  if (st.isSymbolicLink()) {
    // Read what a program following the link would see, if it is a regular file.
    let target = null;
    try {
      const real = fs.realpathSync(p);
      const rst = fs.statSync(real);
      if (rst.isFile()) target = fs.readFileSync(real);
    } catch {}
    return {type: `symlink`, link: fs.readlinkSync(p), bytes: target};
  }
  if (st.isFile()) return {type: `file`, bytes: fs.readFileSync(p), mode: st.mode & 0o777};
  if (st.isDirectory()) return {type: `dir`};
  return {type: `other`};
}

export function sameEntry(a, b) {
  if (a.type !== b.type) return false;
  if (a.link !== b.link) return false;
  if ((a.bytes ?? null) === null || (b.bytes ?? null) === null) return (a.bytes ?? null) === (b.bytes ?? null);
  return a.bytes.equals(b.bytes);
}

/**
 * What one agent file holds now compared with `old` (its entry before the run):
 * `old` (exactly the old bytes), `new` (parses, holds capit's new content and the user's settings; `secret` is the
 * issued key when it is a secret file), or `corrupt` (with a reason).
 */
export function classify(file, now, old, {seeded}) {
  if (sameEntry(now, old)) return {state: `old`};
  if (now.type === `absent`) return {state: `corrupt`, reason: `${file.id} disappeared`};
  const bytes = now.bytes;
  if (!bytes) return {state: `corrupt`, reason: `${file.id} is a ${now.type}, not a readable file`};
  let parsed;
  try {
    parsed = parseAs(file.format, bytes.toString(`utf8`));
  } catch (err) {
    return {state: `corrupt`, reason: `${file.id} does not parse (${String(err.message).slice(0, 80)})`};
  }
  if (parsed === null || typeof parsed !== `object`) return {state: `corrupt`, reason: `${file.id} is not an object`};
  if (seeded && !file.keeps(parsed)) return {state: `corrupt`, reason: `${file.id} lost the user's settings`};
  if (!file.isNew(parsed)) return {state: `corrupt`, reason: `${file.id} changed but holds neither the old bytes nor capit's new content`};
  if (file.secretAt) {
    const secret = get(parsed, file.secretAt);
    if (!isIssuedSecret(secret)) return {state: `corrupt`, reason: `${file.id} changed but holds no capit key`};
    return {state: `new`, secret};
  }
  return {state: `new`};
}

/** The issued secret an agent's parser reads from a file now (last duplicate wins), else null. */
export function secretReadByAgent(file, entry) {
  if (!file.secretAt || !entry.bytes) return null;
  try {
    const value = get(parseAs(file.format, entry.bytes.toString(`utf8`)), file.secretAt);
    return isIssuedSecret(value) ? value : null;
  } catch {
    return null;
  }
}
