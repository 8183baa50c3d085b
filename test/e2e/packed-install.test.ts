// The real install path: `npm run pack`'s tarballs installed globally into a temp prefix, used from a folder outside
// the repository as a person who never cloned it would, under this Node and under the current LTS (Node 24).
// npm gets third-party packages as it would for a user: from the usual cache, else from the registry; nothing here
// depends on what the cache already holds.
import {execFileSync} from 'node:child_process';
import fs             from 'node:fs';
import os             from 'node:os';
import path           from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {DEFAULT_MANAGEMENT_KEY} from '../emulator/server.mjs';
import {run}                    from '../agents/support.js';
import {emulatorPerFile}        from '../support/emulator.js';
import {sandboxEnv, tempDir}    from '../support/tmp.js';
import {NODE_24, NPM_CACHE, fetchNode} from '../support/npm-fetch.js';

const REPO = path.resolve(import.meta.dirname, `../..`);
const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO, `core/package.json`), `utf8`)) as {version: string}).version;

const emulator = emulatorPerFile();

/**
 * How this machine's npm reaches the registry (proxy, CA certificates), which a user's npm has too. The global npmrc
 * is named explicitly because `--prefix` would otherwise move it to <prefix>/etc/npmrc.
 */
function npmNetworkEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env))
    if (value !== undefined && /^(https?_proxy|no_proxy|NODE_EXTRA_CA_CERTS|SSL_CERT_(FILE|DIR)|npm_config_(registry|cafile|ca|proxy|https_proxy|noproxy|strict_ssl))$/i.test(key)) out[key] = value;
  out.npm_config_globalconfig = execFileSync(`npm`, [`config`, `get`, `globalconfig`], {encoding: `utf8`}).trim();
  return out;
}

let packDir = ``;
let networkEnv: Record<string, string> = {};
beforeAll(() => {
  networkEnv = npmNetworkEnv();
  packDir = fs.mkdtempSync(path.join(os.tmpdir(), `capit-pack-`));
  execFileSync(process.execPath, [path.join(REPO, `core/scripts/pack.mjs`), packDir], {env: {...process.env, npm_config_cache: NPM_CACHE}, stdio: `pipe`});
}, 60_000);
afterAll(() => {
  if (packDir) fs.rmSync(packDir, {recursive: true, force: true});
});

function node24() {
  return fetchNode(NODE_24);
}

/** Runs a program and fails with its output when it does not exit 0. */
async function ok(cmd: string, args: string[], opts: {env: Record<string, string>; cwd: string; timeoutMs?: number}) {
  const res = await run(cmd, args, {timeoutMs: 120_000, ...opts});
  if (res.exitCode !== 0) throw new Error(`${cmd} ${args.join(` `)} exited ${res.exitCode}\n${res.stdout}\n${res.stderr}`);
  return res;
}

async function installAndUse(nodeDir: string, expectedNodeVersion: string) {
  const root = tempDir(`capit-packed-`);
  const prefix = path.join(root, `prefix`);
  const work = path.join(root, `work`); // outside the repository, as a user's folder is
  fs.mkdirSync(work);
  // The chosen node first, then the installed capit; nothing from this repository (its node_modules/.bin) on PATH.
  const inherited = (process.env.PATH ?? ``).split(path.delimiter).filter(p => p && !path.resolve(p).startsWith(REPO));
  const env = sandboxEnv(root, {
    PATH: [nodeDir, path.join(prefix, `bin`), ...inherited].join(path.delimiter),
    ...networkEnv,
    npm_config_cache: NPM_CACHE,
    npm_config_update_notifier: `false`,
  });
  // Backups and ledger under XDG_STATE_HOME, as for a real user.
  delete (env as Record<string, string | undefined>).CAPIT_HOME;

  expect((await ok(`node`, [`--version`], {env, cwd: work})).stdout.trim()).toBe(`v${expectedNodeVersion}`);
  const tarballs = fs.readdirSync(packDir).filter(f => f.endsWith(`.tgz`)).map(f => path.join(packDir, f));
  expect(tarballs.length).toBeGreaterThan(10);
  await ok(`npm`, [`install`, `-g`, `--prefix`, prefix, `--no-audit`, `--no-fund`, ...tarballs], {env, cwd: work, timeoutMs: 180_000});
  const installed = fs.realpathSync(path.join(prefix, `lib`, `node_modules`, `capit`));
  expect(fs.existsSync(path.join(installed, `scripts`))).toBe(false);
  const capit = (...args: string[]) => run(`capit`, args, {env, cwd: work, timeoutMs: 30_000});

  const version = await capit(`--version`);
  expect(version.stdout.trim()).toBe(VERSION);

  const help = await capit(`--help`);
  expect(help.exitCode, help.stderr).toBe(0);
  expect(help.stderr).toBe(``);
  expect(help.stdout).toContain(`plugin new`);

  const agents = await capit(`agents`, `--json`);
  expect(agents.exitCode, agents.stderr).toBe(0);
  expect((JSON.parse(agents.stdout) as {id: string}[]).map(a => a.id).sort()).toEqual([`claude`, `cline`, `crush`, `cursor`, `droid`, `hermes`, `kilo`, `openclaw`, `opencode`, `qwen`, `windsurf`]);

  const plugins = await capit(`plugin`, `list`, `--json`);
  expect(plugins.exitCode, plugins.stderr).toBe(0);
  const listed = JSON.parse(plugins.stdout) as {plugins: {id: string; source: string; version: string}[]; broken: unknown[]};
  expect(listed.broken).toEqual([]);
  expect(listed.plugins.map(p => p.id).sort()).toEqual([`aihubmix`, `claude`, `cline`, `crush`, `cursor`, `droid`, `hermes`, `kilo`, `openclaw`, `opencode`, `openrouter`, `qwen`, `windsurf`]);
  expect(listed.plugins.every(p => p.source === `builtin` && p.version === VERSION)).toBe(true);

  // The scaffold comes from the installed package's templates and builds against the installed capit.
  const created = await capit(`plugin`, `new`, `agent`, `demo`);
  expect(created.exitCode, created.stderr).toBe(0);
  const scaffold = path.join(work, `capit-agent-demo`);
  const pkgText = fs.readFileSync(path.join(scaffold, `package.json`), `utf8`);
  expect(JSON.parse(pkgText).devDependencies.capit).toBe(`file:${installed}`);
  expect(pkgText).not.toContain(REPO);
  await ok(`npm`, [`install`, `--prefer-offline`, `--no-audit`, `--no-fund`], {env, cwd: scaffold, timeoutMs: 180_000});
  await ok(`npm`, [`run`, `build`], {env, cwd: scaffold});
  expect((await ok(`npm`, [`test`], {env, cwd: scaffold})).stdout).toMatch(/Tests\s+\d+ passed/);
  const viaEnv = await run(`capit`, [`plugin`, `list`, `--json`], {env: {...env, CAPIT_PLUGIN_PATH: scaffold}, cwd: work});
  expect((JSON.parse(viaEnv.stdout) as typeof listed).plugins).toContainEqual(expect.objectContaining({id: `demo`, source: `env`}));

  // A capped key issued by the (emulated) provider and installed into opencode, then undone.
  const userEnv = {...env, CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: DEFAULT_MANAGEMENT_KEY};
  const issued = await run(`capit`, [`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env: userEnv, cwd: work});
  expect(issued.exitCode, issued.stderr).toBe(0);
  expect(issued.stdout.split(`\n`)[0]).toBe(`$5.00 openrouter key installed into opencode`);
  const keys = [...emulator.state.keys.values()];
  expect(keys).toHaveLength(1);
  expect(keys[0]!.limit).toBe(5);
  expect(issued.stdout + issued.stderr).not.toContain(keys[0]!.key);
  const auth = path.join(env.XDG_DATA_HOME!, `opencode`, `auth.json`);
  expect(JSON.parse(fs.readFileSync(auth, `utf8`)).openrouter).toEqual({type: `api`, key: keys[0]!.key});
  const restored = await run(`capit`, [`restore`, `opencode`, `--yes`], {env: userEnv, cwd: work});
  expect(restored.exitCode, restored.stderr).toBe(0);
  expect(fs.existsSync(auth)).toBe(false);
}

describe(`capit installed from npm run pack's tarballs`, () => {
  it(`installs globally and works from outside the repository under this Node`, async () => {
    await installAndUse(path.dirname(process.execPath), process.versions.node);
  }, 300_000);

  it(`does the same under Node ${NODE_24} (current LTS)`, async ctx => {
    const node = node24();
    if (`reason` in node) {
      process.stderr.write(`packed-install: Node ${NODE_24} test skipped: ${node.reason}\n`);
      ctx.skip(node.reason);
      return;
    }
    await installAndUse(path.join(node.dir, `bin`), NODE_24);
  }, 420_000);
});
