// The project's own seeded fault harness: kill -9 mid-install, a fault-injecting provider on every endpoint capit
// calls, and a hostile-file corpus — all against the BUILT CLI (core/bin/capit.js), each scenario in its own temp HOME
// with its own loopback emulator. After every scenario it counts the promises that broke (see COUNTERS).
// Plain JavaScript (node built-ins + `yaml`) so that `node test/fault/soak.mjs` runs it without a build step.
import {spawn}  from 'node:child_process';
import fs       from 'node:fs';
import os       from 'node:os';
import path     from 'node:path';

import {startEmulator, DEFAULT_MANAGEMENT_KEY} from '../emulator/server.mjs';
import {AGENTS, AGENT_IDS, ISSUED_SECRET, classify, isIssuedSecret, readEntry, sameEntry, secretReadByAgent, writeSeed} from './agents.mjs';
import {HOSTILE_KINDS, hostileCases} from './hostile.mjs';

export const CLI = path.resolve(import.meta.dirname, `../../core/bin/capit.js`);

/** The five promises plus crashes; each must be 0 once the fixes land. Counted per scenario (a scenario counts once). */
export const COUNTERS = [`corrupted`, `deletedKeyInstalls`, `orphans`, `straySecrets`, `falseSuccesses`, `stackTraces`, `hangs`];
export const COUNTER_TITLES = {
  corrupted: `configs corrupted`,
  deletedKeyInstalls: `deleted-key installs`,
  orphans: `orphans after the next run`,
  straySecrets: `stray secrets`,
  falseSuccesses: `false successes`,
  stackTraces: `stack traces / crashes`,
  hangs: `hangs (no exit within the bound)`,
};

/** The plugin-call cut-off the fault scenarios run with (capit's default is 30 s). */
const PLUGIN_TIMEOUT_MS = 2_000;
/** No capit run may take longer than this; past it the run is killed and counted as a hang. */
const RUN_BOUND_MS = 25_000;

// ---------------------------------------------------------------------------------------------------------------
// seeded PRNG

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function makeRng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: list => list[Math.floor(next() * list.length)],
    chance: p => next() < p,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// sandbox and runs

async function makeSandbox(extraEnv = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `capit-fault-`));
  const home = path.join(root, `home`);
  fs.mkdirSync(home, {recursive: true});
  const emu = await startEmulator({port: 0});
  const env = {
    PATH: process.env.PATH ?? ``,
    HOME: home,
    USERPROFILE: home,
    XDG_CONFIG_HOME: path.join(home, `.config`),
    XDG_STATE_HOME: path.join(home, `.local`, `state`),
    XDG_DATA_HOME: path.join(home, `.local`, `share`),
    NO_COLOR: `1`,
    FORCE_COLOR: `0`,
    NODE_OPTIONS: ``,
    CAPIT_OPENROUTER_BASE_URL: emu.openrouterBaseUrl,
    OPENROUTER_MANAGEMENT_KEY: DEFAULT_MANAGEMENT_KEY,
    ...extraEnv,
  };
  return {
    root, home, env, emu,
    stateDir: path.join(env.XDG_STATE_HOME, `capit`),
    async dispose() {
      await emu.close();
      fs.rmSync(root, {recursive: true, force: true, maxRetries: 3});
    },
  };
}

/**
 * Spawns the built CLI in its own process group. `killAfterMs`: SIGKILL the whole group then (the kill -9 campaign).
 * Never waits longer than RUN_BOUND_MS: a run still going then is killed and reported as `hung`.
 */
export function runCapit(sb, args, {killAfterMs, input = ``, control} = {}) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, ...args], {env: sb.env, cwd: sb.home, stdio: [`pipe`, `pipe`, `pipe`], detached: true});
    let stdout = ``;
    let stderr = ``;
    let killed = false;
    let hung = false;
    child.stdout.on(`data`, c => (stdout += c));
    child.stderr.on(`data`, c => (stderr += c));
    const killGroup = () => {
      try {
        process.kill(-child.pid, `SIGKILL`);
      } catch {}
    };
    let killTimer = null;
    const killIn = ms => {
      if (killTimer) clearTimeout(killTimer);
      killTimer = setTimeout(() => {
        killed = true;
        killGroup();
      }, ms);
    };
    if (killAfterMs !== undefined) killIn(killAfterMs);
    // `control.killIn(ms)`: a kill timed from an event (the create request reaching the provider), not from spawn.
    if (control) control.killIn = killIn;
    const boundTimer = setTimeout(() => {
      hung = true;
      killGroup();
    }, RUN_BOUND_MS);
    child.on(`error`, reject);
    child.on(`close`, (exitCode, signal) => {
      if (killTimer) clearTimeout(killTimer);
      clearTimeout(boundTimer);
      resolve({args, exitCode, signal, stdout, stderr, killed: killed && exitCode === null, hung, ms: Date.now() - started});
    });
    child.stdin.on(`error`, () => {});
    child.stdin.end(input);
  });
}

const STACK = /this is a bug|^\s+at .+:\d+:\d+\)?$/m;

function parseJsonOut(r) {
  try {
    return JSON.parse(r.stdout);
  } catch {
    return null;
  }
}

function countBackups(sb, agent) {
  try {
    return fs.readdirSync(path.join(sb.stateDir, `backups`, agent)).length;
  } catch {
    return 0;
  }
}

/** A killed run leaves capit's lock behind; age it past the stale bound instead of sleeping 10 s per kill. */
function ageLocks(stateDir) {
  const old = new Date(Date.now() - 120_000);
  const walk = dir => {
    let entries;
    try {
      entries = fs.readdirSync(dir, {withFileTypes: true});
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.name.endsWith(`.lock`)) fs.utimesSync(p, old, old);
      if (e.isDirectory() && e.name !== `backups`) walk(p);
    }
  };
  walk(stateDir);
}

function readLedger(sb) {
  try {
    return JSON.parse(fs.readFileSync(path.join(sb.stateDir, `ledger.json`), `utf8`)).keys ?? [];
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------------------------
// the checks

/** One scenario's findings: counters (0/1 each) and human-readable details. */
function makeFindings(name) {
  const counters = Object.fromEntries(COUNTERS.map(c => [c, 0]));
  const details = [];
  const notes = [];
  return {
    name, counters, details, notes,
    flag(counter, detail) {
      counters[counter] = 1;
      details.push(`${counter}: ${detail}`);
    },
    note(kind, detail) {
      notes.push({kind, detail});
    },
  };
}

function checkRun(f, r, label) {
  const out = `${r.stdout}\n${r.stderr}`;
  if (STACK.test(out)) f.flag(`stackTraces`, `${label}: ${firstLine(out.match(/capit: internal error.*|.*Error.*/)?.[0] ?? out)}`);
  else if (!r.killed && !r.hung && r.exitCode !== 0 && r.exitCode !== 1 && r.exitCode !== 2)
    f.flag(`stackTraces`, `${label}: exit ${r.exitCode ?? r.signal}`);
  if (r.hung) f.flag(`hangs`, `${label} did not finish within ${RUN_BOUND_MS / 1000} s`);
}

const firstLine = s => String(s).split(`\n`).find(l => l.trim() !== ``)?.slice(0, 160) ?? ``;
const aliveSecrets = emu => new Map([...emu.state.keys.values()].map(k => [k.key, k]));

/** Every agent file of an agent right now. */
function agentState(sb, agent) {
  return AGENTS[agent].files(sb.env).map(file => ({file, entry: readEntry(file.path)}));
}

/** Files of every agent the scenario used: realpath → true, so the stray-secret scan skips them. */
function agentPaths(sb) {
  const out = new Set();
  for (const id of AGENT_IDS)
    for (const file of AGENTS[id].files(sb.env)) {
      out.add(path.resolve(file.path));
      try {
        out.add(fs.realpathSync(file.path));
      } catch {}
    }
  return out;
}

/**
 * configs corrupted: each file is its old bytes or a valid parse holding capit's new content; with `settled`, a
 * multi-file agent must not mix old and new files and its secret files must hold one and the same key.
 */
function checkCorruption(f, sb, agent, before, {settled, seeded, label, alsoOld}) {
  const now = agentState(sb, agent);
  const states = now.map(({file, entry}, i) =>
    alsoOld && sameEntry(entry, alsoOld[i].entry) ? {file, state: `old`} : {file, ...classify(file, entry, before[i].entry, {seeded: seeded[i]})});
  for (const s of states) if (s.state === `corrupt`) f.flag(`corrupted`, `${label}: ${agent} ${s.reason}`);
  if (settled && states.length > 1 && !states.some(s => s.state === `corrupt`)) {
    // A file whose old bytes already hold capit's content (a second install) counts as both.
    const isOld = states.map((s, i) => s.state === `old` && !holdsNew(s.file, before[i].entry));
    const isNew = states.map(s => s.state === `new`);
    if (isOld.some(Boolean) && isNew.some(Boolean))
      f.flag(`corrupted`, `${label}: ${agent} mixes old (${states.filter((_, i) => isOld[i]).map(s => s.file.id).join(`, `)}) and new (${states.filter((_, i) => isNew[i]).map(s => s.file.id).join(`, `)}) files`);
    const secrets = new Set(now.map(({file, entry}) => secretReadByAgent(file, entry)).filter(Boolean));
    if (secrets.size > 1) f.flag(`corrupted`, `${label}: ${agent}'s files hold ${secrets.size} different capit keys`);
  }
  return states;
}

function holdsNew(file, entry) {
  return classify(file, entry, {type: `absent`}, {seeded: false}).state === `new`;
}

/** deleted-key installs: an agent file holding a key capit issued that the provider no longer has. */
function checkDeletedKeyInstalls(f, sb, label) {
  const alive = aliveSecrets(sb.emu);
  for (const id of AGENT_IDS)
    for (const {file, entry} of agentState(sb, id)) {
      if (!entry.bytes) continue;
      for (const secret of new Set(entry.bytes.toString(`latin1`).match(ISSUED_SECRET) ?? []))
        if (!alive.has(secret)) f.flag(`deletedKeyInstalls`, `${label}: ${id} ${file.id} holds a key the provider does not have (${secret.slice(0, 12)}…)`);
    }
}

/**
 * orphans: a capit key alive at the provider that no agent file holds and that the ledger does not record as
 * settled (active or disabled) — nobody can find or clean it up. Keys the harness seeded itself are ignored.
 */
function checkOrphans(f, sb, label) {
  const held = new Set();
  for (const id of AGENT_IDS)
    for (const {entry} of agentState(sb, id)) for (const s of entry.bytes?.toString(`latin1`).match(ISSUED_SECRET) ?? []) held.add(s);
  const settled = new Set(readLedger(sb).filter(k => (k.status === `active` || k.status === `disabled`) && k.id).map(k => k.id));
  for (const key of sb.emu.state.keys.values()) {
    if (key.name.startsWith(`seed-`)) continue;
    if (held.has(key.key) || settled.has(key.hash)) continue;
    const pending = readLedger(sb).some(k => k.name === key.name && k.status === `pending`);
    f.flag(`orphans`, `${label}: key "${key.name}" is alive at the provider, in no agent file, and ${pending ? `only pending` : `not`} in the ledger`);
  }
}

/**
 * stray secrets: any file under the sandbox, other than the agent files and the backup copies of their old bytes,
 * that holds a full key the emulator issued (a write-file-atomic temp file `auth.json.<digits>`, a log, the ledger…).
 */
function checkStraySecrets(f, sb, label) {
  const skip = agentPaths(sb);
  const backupCopy = /\/backups\/[^/]+\/[^/]+\/files\/\d+$/;
  const walk = dir => {
    let entries;
    try {
      entries = fs.readdirSync(dir, {withFileTypes: true});
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && !skip.has(p) && !backupCopy.test(p)) {
        let st;
        try {
          st = fs.statSync(p);
        } catch {
          continue;
        }
        if (st.size > 32 * 1024 * 1024) continue;
        const text = fs.readFileSync(p).toString(`latin1`);
        ISSUED_SECRET.lastIndex = 0;
        if (ISSUED_SECRET.test(text)) f.flag(`straySecrets`, `${label}: ${path.relative(sb.root, p)} holds a full issued key`);
      }
    }
  };
  walk(sb.root);
}

/** An install that exited 0: the agent must really hold a live key, the one the run reports. */
function checkInstallClaim(f, sb, agent, r, label) {
  if (r.exitCode !== 0) return;
  const out = parseJsonOut(r);
  const alive = aliveSecrets(sb.emu);
  for (const {file, entry} of agentState(sb, agent)) {
    if (!file.secretAt) continue;
    const secret = secretReadByAgent(file, entry);
    const key = secret ? alive.get(secret) : undefined;
    if (!key) {
      f.flag(`falseSuccesses`, `${label}: exit 0 "installed", but ${agent} ${file.id} ${secret ? `holds a key the provider does not have` : `does not hold a capit key (as the agent parses it)`}`);
      return;
    }
    if (out?.id !== undefined && key.hash !== out.id) {
      f.flag(`falseSuccesses`, `${label}: exit 0 installed key ${String(out.id).slice(0, 8)}, but ${agent} ${file.id} holds another one`);
      return;
    }
  }
}

/** A restore that names a key as still existing must be right about it. */
function checkRestoreClaim(f, sb, r, label) {
  const m = /The key "([^"]+)" still exists/.exec(r.stderr);
  if (r.exitCode === 0 && m && ![...sb.emu.state.keys.values()].some(k => k.name === m[1]))
    f.flag(`falseSuccesses`, `${label}: says the key "${m[1]}" still exists, but the provider does not have it`);
}

/** Restores until capit says there is nothing left; the files must then be the user's original bytes. */
async function restoreAll(f, sb, agent, original, label) {
  for (let i = 0; i < 6; i++) {
    const r = await runCapit(sb, [`restore`, agent, `--yes`]);
    checkRun(f, r, `${label} restore`);
    checkRestoreClaim(f, sb, r, `${label} restore`);
    if (r.exitCode !== 0) {
      if (!/no capit backup/i.test(r.stderr)) f.note(`restore refused`, `${label}: ${firstLine(r.stderr)}`);
      break;
    }
    // Back at the start: no need for one more run to hear "nothing left to restore".
    if (agentState(sb, agent).every(({entry}, j) => sameEntry(entry, original[j].entry))) break;
  }
  const now = agentState(sb, agent);
  const differ = now.filter(({entry}, i) => !sameEntry(entry, original[i].entry)).map(({file}) => file.id);
  if (differ.length > 0) f.note(`not back to the original bytes after restore`, `${label}: ${agent} ${differ.join(`, `)}`);
}

// ---------------------------------------------------------------------------------------------------------------
// 1. kill -9 campaign

/** Seeds an agent's files (all of them, or none: a first install) and returns which were seeded. */
function seedAgent(sb, agent, rng) {
  const files = AGENTS[agent].files(sb.env);
  const fresh = rng.chance(0.15);
  for (const file of files) if (!fresh) writeSeed(file);
  return files.map(() => !fresh);
}

const installArgs = agent => [`openrouter`, `5`, `--agent`, agent, `--yes`, `--json`];
/** An issue without an agent: capit prints the key (the user asked for it) and touches no agent file. */
const ISSUE_ARGS = [`openrouter`, `1`, `--yes`, `--json`];

/** An agent-less issue that exited 0 must have created a live key with the id it printed. */
function checkIssueClaim(f, sb, r, label) {
  if (r.exitCode !== 0) return;
  const out = parseJsonOut(r);
  const key = out?.id ? sb.emu.state.keys.get(out.id) : undefined;
  if (!key || key.key !== out.key) f.flag(`falseSuccesses`, `${label}: exit 0 with a key the provider does not have`);
}

/**
 * Per agent, measured as the campaign runs it (latency 20 ms, answer 40 ms after acting; the faster of two runs): when
 * the create request reaches the provider (`createAt`, ms after spawn) and how long capit takes after the answer until
 * it has exited (`afterAnswer`). Kills are drawn around these phases.
 */
export async function calibrate(agents) {
  const out = {};
  for (const agent of agents) {
    const sb = await makeSandbox();
    try {
      const runs = [];
      sb.emu.knobs.latencyMs = 20;
      for (let i = 0; i < 2; i++) {
        for (const file of AGENTS[agent].files(sb.env)) writeSeed(file);
        const spawnedAt = Date.now();
        let arrivedAt = 0;
        sb.emu.faults.add({method: `POST`, pathRegex: `^/api/v1/keys$`, kind: `hang`, when: `after`, delayMs: 40, onHit: () => (arrivedAt = Date.now())});
        const r = await runCapit(sb, installArgs(agent));
        if (r.exitCode !== 0 || !arrivedAt) throw new Error(`calibration install into ${agent} failed: ${firstLine(r.stderr)}`);
        runs.push({createAt: arrivedAt - spawnedAt, afterAnswer: spawnedAt + r.ms - (arrivedAt + 60)});
      }
      out[agent] = {createAt: Math.min(...runs.map(x => x.createAt)), afterAnswer: Math.max(20, Math.min(...runs.map(x => x.afterAnswer)))};
    } finally {
      await sb.dispose();
    }
  }
  return out;
}

/**
 * When to kill: 15 % while capit starts (no key yet, timed from spawn); 25 % after the create request reached the
 * provider but before its answer is back (the key may exist); 30 % after the answer, while capit plans and backs up
 * (`afterAnswer`, calibrated); 30 % from capit's first write in an agent's folder (an inotify event), 0–25 ms later:
 * between the files of a multi-file agent and before the ledger records the key. Timing from events, not only from
 * spawn, keeps the phases covered when the machine is slower or faster than at calibration.
 */
function killPlan(rng, cal, latency, answerDelay) {
  const u = rng.next();
  if (u < 0.15) return {fromSpawn: Math.round(cal.createAt * (0.5 + rng.next() * 0.5))};
  if (u < 0.4) return {fromCreate: Math.round(rng.next() * (latency + answerDelay))};
  const afterAnswer = Math.round(latency + answerDelay + (0.1 + rng.next() * 0.8) * cal.afterAnswer);
  if (u < 0.7) return {fromCreate: afterAnswer};
  return {fromFirstWrite: Math.round(rng.next() * 25), fromCreate: afterAnswer * 3};
}

/** Calls `onWrite` once, at the first change in any existing folder of the agent's files. */
function watchAgentFolders(sb, agent, onWrite) {
  const dirs = [...new Set(AGENTS[agent].files(sb.env).map(file => path.dirname(file.path)))].filter(d => fs.existsSync(d));
  let fired = false;
  const watchers = dirs.map(dir => fs.watch(dir, () => {
    if (fired) return;
    fired = true;
    onWrite();
  }));
  return () => {
    for (const w of watchers) w.close();
  };
}

export function killScenarios(count, seed, agents = AGENT_IDS) {
  return Array.from({length: count}, (_, i) => ({kind: `kill`, name: `kill-${agents[i % agents.length]}-${i}`, agent: agents[i % agents.length], seed: seed + i}));
}

async function runKill(sc, ctx) {
  const rng = makeRng(sc.seed);
  const f = makeFindings(sc.name);
  const sb = await makeSandbox();
  try {
    const {agent} = sc;
    const seeded = seedAgent(sb, agent, rng);
    const original = agentState(sb, agent);
    // Sometimes the kill lands in a second install, whose old bytes hold a live capit key.
    if (rng.chance(0.3)) {
      const prior = await runCapit(sb, installArgs(agent));
      checkRun(f, prior, `prior install`);
      if (prior.exitCode !== 0) f.note(`setup failed`, `prior install: ${firstLine(prior.stderr)}`);
    }
    const before = agentState(sb, agent);
    const latency = rng.int(5, 60);
    const answerDelay = rng.int(10, 80);
    sb.emu.knobs.latencyMs = latency;
    const plan = killPlan(rng, ctx.calibration[agent], latency, answerDelay);
    const control = {};
    // The provider creates the key, then its answer takes answerDelay ms: kills land in that window too.
    sb.emu.faults.add({
      method: `POST`, pathRegex: `^/api/v1/keys$`, kind: `hang`, when: `after`, delayMs: answerDelay,
      onHit: () => plan.fromCreate !== undefined && control.killIn?.(plan.fromCreate),
    });
    sc.detail = `latency ${latency} ms, answer ${answerDelay} ms after acting, kill ${plan.fromSpawn !== undefined ? `${plan.fromSpawn} ms after spawn` : plan.fromFirstWrite !== undefined ? `${plan.fromFirstWrite} ms after the first write in the agent's folder` : `${plan.fromCreate} ms after the create request arrived`}`;
    const keysBefore = sb.emu.state.keys.size;
    const backupsBefore = countBackups(sb, agent);
    // A first install has no folders to watch yet: then the fallback timer (from the create request) applies.
    const unwatch = plan.fromFirstWrite === undefined ? () => {} : watchAgentFolders(sb, agent, () => control.killIn?.(plan.fromFirstWrite));
    const killed = await runCapit(sb, installArgs(agent), {killAfterMs: plan.fromSpawn, control}).finally(unwatch);
    sb.emu.knobs.latencyMs = 0;
    sb.emu.faults.clear();
    ageLocks(sb.stateDir);
    checkRun(f, killed, `killed install`);
    if (killed.killed) {
      // Where the kill landed, so the summary shows the campaign reaches every phase of the transaction.
      const created = sb.emu.state.keys.size > keysBefore;
      const changed = agentState(sb, agent).filter(({entry}, i) => !sameEntry(entry, before[i].entry)).length;
      const total = before.length;
      const backedUp = countBackups(sb, agent) > backupsBefore;
      f.note(`killed ${!created ? `before the key existed` : changed === 0 ? `after create, ${backedUp ? `backup begun, ` : ``}no agent file written` : changed < total ? `with ${changed} of ${total} files written` : `after every file was written`}`, ``);
      // At the instant of the kill: every file is its old bytes or the new content, never anything else.
      checkCorruption(f, sb, agent, before, {settled: false, seeded, label: `right after kill -9`});
      // Invariant (b): at every instant a key alive at the provider is in the ledger (pending is enough: the next run
      // settles it) or in an agent file. Otherwise no later run can find it.
      const ledgerNames = new Set(readLedger(sb).map(k => k.name));
      const held = new Set(agentState(sb, agent).flatMap(({entry}) => entry.bytes?.toString(`latin1`).match(ISSUED_SECRET) ?? []));
      for (const key of [...sb.emu.state.keys.values()].slice(keysBefore))
        if (!ledgerNames.has(key.name) && !held.has(key.key)) f.flag(`orphans`, `right after kill -9: key "${key.name}" is alive, in no agent file and not in the ledger`);
    } else {
      f.note(`finished before the kill`, ``);
      checkInstallClaim(f, sb, agent, killed, `install (not killed)`);
    }
    // No stray-secret check here: a temp file of the interrupted write may exist now; the next run must remove it.

    // The next capit command, then what the user would do: install again (it recovers), and restore back.
    // `issue` is an agent-less issue (the key printed, no file touched): it recovers without overwriting the agent's
    // files, so a recovery that deletes the key an agent holds shows as a deleted-key install.
    const next = rng.pick([`list`, `install`, `restore`, `issue`]);
    const nextArgs = {list: [`keys`, `list`, `--json`], install: installArgs(agent), restore: [`restore`, agent, `--yes`], issue: ISSUE_ARGS}[next];
    const n = await runCapit(sb, nextArgs);
    checkRun(f, n, `next run (${next})`);
    if (next === `install`) checkInstallClaim(f, sb, agent, n, `next run (install)`);
    if (next === `issue`) checkIssueClaim(f, sb, n, `next run (issue)`);
    if (next === `restore`) checkRestoreClaim(f, sb, n, `next run (restore)`);
    if (n.exitCode !== 0 && next !== `restore`) f.note(`next run failed`, `${next}: ${firstLine(n.stderr)}`);
    // A restore may go back past the killed run to the user's original bytes: old too.
    checkCorruption(f, sb, agent, before, {settled: true, seeded, label: `after the next run (${next})`, alsoOld: original});
    checkDeletedKeyInstalls(f, sb, `after the next run (${next})`);
    checkStraySecrets(f, sb, `after the next run (${next})`);
    if (next !== `install` && next !== `issue`) {
      const again = await runCapit(sb, ISSUE_ARGS);
      checkRun(f, again, `issue after the next run`);
      checkIssueClaim(f, sb, again, `issue after the next run`);
      checkDeletedKeyInstalls(f, sb, `after a further (agent-less) issue`);
      checkStraySecrets(f, sb, `after a further (agent-less) issue`);
    }
    checkOrphans(f, sb, `after the next runs`);
    await restoreAll(f, sb, agent, original, `final`);
    checkDeletedKeyInstalls(f, sb, `after restore`);
    checkStraySecrets(f, sb, `after restore`);
    checkCorruption(f, sb, agent, original, {settled: true, seeded, label: `after restore`, alsoOld: before});
  } finally {
    await sb.dispose();
  }
  return f;
}

// ---------------------------------------------------------------------------------------------------------------
// 2. fault-injecting provider

/** Every fault kind the provider can throw at capit. `hold`/`late` outlast capit's plugin deadline. */
export const FAULT_KINDS = [
  {id: `reset-before`, rule: {kind: `reset`, when: `before`}},
  {id: `reset-after`, rule: {kind: `reset`, when: `after`}},
  {id: `hang-before`, rule: {kind: `hang`, when: `before`, holdMs: PLUGIN_TIMEOUT_MS + 2_000}},
  {id: `hang-after`, rule: {kind: `hang`, when: `after`, holdMs: PLUGIN_TIMEOUT_MS + 2_000}},
  {id: `late-after`, rule: {kind: `hang`, when: `after`, delayMs: PLUGIN_TIMEOUT_MS + 1_000}},
  {id: `junk-text`, rule: {kind: `junk`, when: `after`, junk: `text`}},
  {id: `junk-truncated`, rule: {kind: `junk`, when: `after`, junk: `truncated`}},
  {id: `junk-empty`, rule: {kind: `junk`, when: `after`, junk: `empty`}},
  {id: `junk-shape`, rule: {kind: `junk`, when: `after`, junk: `shape`}},
  {id: `junk-null`, rule: {kind: `junk`, when: `after`, junk: `null`}},
  // 200 with junk while the provider did NOT act: only a check after the answer can tell.
  {id: `junk-text-before`, rule: {kind: `junk`, when: `before`, junk: `text`}},
  {id: `junk-shape-before`, rule: {kind: `junk`, when: `before`, junk: `shape`}},
  {id: `junk-empty-before`, rule: {kind: `junk`, when: `before`, junk: `empty`}},
  {id: `429-retry-after`, rule: {kind: `status`, when: `before`, status: 429, retryAfter: 1, count: 5}},
  {id: `500-before`, rule: {kind: `status`, when: `before`, status: 500}},
  {id: `500-after`, rule: {kind: `status`, when: `after`, status: 500}},
  {id: `502-every`, rule: {kind: `status`, when: `before`, status: 502, count: -1}},
];

/** Every endpoint capit calls, with the command that calls it. */
export const FAULT_ENDPOINTS = [
  {id: `create`, method: `POST`, pathRegex: `^/api/v1/keys$`},
  {id: `list`, method: `GET`, pathRegex: `^/api/v1/keys$`},
  {id: `get`, method: `GET`, pathRegex: `^/api/v1/keys/[^/]+$`},
  {id: `patch`, method: `PATCH`, pathRegex: `^/api/v1/keys/[^/]+$`},
  {id: `delete`, method: `DELETE`, pathRegex: `^/api/v1/keys/[^/]+$`},
  {id: `key`, method: `GET`, pathRegex: `^/api/v1/key$`},
];

export function faultScenarios() {
  const out = [];
  for (const endpoint of FAULT_ENDPOINTS)
    for (const fault of FAULT_KINDS) out.push({kind: `fault`, name: `fault-${endpoint.id}-${fault.id}`, endpoint, fault});
  return out;
}

/** An agent-less capit key (the user asked for the key itself), for the delete/disable/list/get scenarios. */
async function issueBareKey(f, sb) {
  const r = await runCapit(sb, [`openrouter`, `5`, `--yes`, `--json`]);
  checkRun(f, r, `setup issue`);
  const out = parseJsonOut(r);
  if (r.exitCode !== 0 || !out?.id) throw new Error(`setup: issuing a key failed: ${firstLine(r.stderr)}`);
  return out;
}

function faultHits(sb, endpoint) {
  const re = new RegExp(endpoint.pathRegex);
  return sb.emu.state.requests.filter(q => q.method === endpoint.method && re.test(q.path));
}

async function runFault(sc) {
  const f = makeFindings(sc.name);
  const sb = await makeSandbox({CAPIT_PLUGIN_TIMEOUT_MS: String(PLUGIN_TIMEOUT_MS)});
  const rule = {...sc.fault.rule, method: sc.endpoint.method, pathRegex: sc.endpoint.pathRegex};
  try {
    const ep = sc.endpoint.id;
    if (ep === `create`) {
      const agent = `opencode`;
      const seeded = seedAgent(sb, agent, makeRng(1));
      const before = agentState(sb, agent);
      sb.emu.faults.add(rule);
      const r = await runCapit(sb, installArgs(agent));
      checkRun(f, r, `faulted install`);
      checkInstallClaim(f, sb, agent, r, `faulted install`);
      checkCorruption(f, sb, agent, before, {settled: true, seeded, label: `after the faulted install`});
      checkStraySecrets(f, sb, `after the faulted install`);
      sb.emu.faults.clear();
      const next = await runCapit(sb, installArgs(agent));
      checkRun(f, next, `next install`);
      checkInstallClaim(f, sb, agent, next, `next install`);
      checkDeletedKeyInstalls(f, sb, `after the next install`);
      checkOrphans(f, sb, `after the next install`);
      await restoreAll(f, sb, agent, before, `final`);
      checkStraySecrets(f, sb, `after restore`);
    } else if (ep === `key`) {
      sb.emu.faults.add(rule);
      const r = await runCapit(sb, [`platforms`, `add`, `openrouter`, `--key-stdin`, `--no-store`], {input: `${DEFAULT_MANAGEMENT_KEY}\n`});
      checkRun(f, r, `faulted platforms add`);
      const clean = faultHits(sb, sc.endpoint).some(q => q.outcome === `handled` && q.status === 200);
      if (r.exitCode === 0 && !clean) f.flag(`falseSuccesses`, `platforms add: exit 0 although no check of the master key was answered properly`);
    } else {
      const issued = await issueBareKey(f, sb);
      sb.emu.faults.add(rule);
      const action = ep === `patch` ? `disable` : ep === `list` ? `list` : `delete`;
      const args = action === `list` ? [`keys`, `list`, `--json`] : [`keys`, action, issued.name, `--yes`, `--json`];
      const r = await runCapit(sb, args);
      checkRun(f, r, `faulted keys ${action}`);
      const out = parseJsonOut(r);
      const key = sb.emu.state.keys.get(issued.id);
      const entry = readLedger(sb).find(k => k.id === issued.id);
      if (action === `list`) {
        if (r.exitCode === 0 && out && (out.errors ?? []).length === 0 && !(out.keys ?? []).some(k => k.id === issued.id))
          f.flag(`falseSuccesses`, `keys list: exit 0 without errors, but the live key ${issued.name} is not listed`);
      } else if (action === `delete`) {
        const claimed = r.exitCode === 0 || out?.results?.some(x => x.ok) || /^deleted /m.test(r.stdout);
        if (claimed && key) f.flag(`falseSuccesses`, `keys delete: says deleted, but the key is alive at the provider`);
        if (entry?.status === `deleted` && key) f.flag(`falseSuccesses`, `keys delete: the ledger says deleted, but the key is alive at the provider`);
      } else {
        const claimed = r.exitCode === 0 || out?.results?.some(x => x.ok);
        if (claimed && key && key.disabled !== true) f.flag(`falseSuccesses`, `keys disable: says disabled, but the key is enabled at the provider`);
        if (entry?.status === `disabled` && key && key.disabled !== true) f.flag(`falseSuccesses`, `keys disable: the ledger says disabled, but the key is enabled at the provider`);
      }
      sb.emu.faults.clear();
      const next = await runCapit(sb, [`keys`, `list`, `--json`]);
      checkRun(f, next, `next keys list`);
      checkOrphans(f, sb, `after the next run`);
      checkStraySecrets(f, sb, `after the next run`);
    }
    if (faultHits(sb, sc.endpoint).every(q => q.outcome !== `faulted`)) f.note(`fault not triggered`, `capit did not call ${sc.endpoint.method} ${sc.endpoint.pathRegex} in this scenario`);
  } finally {
    await sb.dispose();
  }
  return f;
}

// ---------------------------------------------------------------------------------------------------------------
// 3. hostile files

export function hostileScenarios() {
  return hostileCases().map(c => ({...c, kind: `hostile`, name: `hostile-${c.agent}-${c.fileId}-${c.hostileKind}`}));
}

/** Every entry under the sandbox's HOME except capit's own state: path → entry (type, bytes, link). */
function treeSnapshot(sb) {
  const out = new Map();
  const skip = sb.stateDir;
  const walk = dir => {
    let entries;
    try {
      entries = fs.readdirSync(dir, {withFileTypes: true});
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (p === skip) continue;
      // capit's own state dir and the folders above it (~/.local/state) are capit's, not the user's.
      if (skip.startsWith(p + path.sep)) {
        walk(p);
        continue;
      }
      const entry = readEntry(p);
      out.set(p, entry);
      if (entry.type === `dir`) walk(p);
    }
  };
  walk(sb.home);
  return out;
}

function treeDiff(a, b) {
  const changed = [];
  for (const [p, e] of a) if (!b.has(p) || !sameEntry(e, b.get(p))) changed.push(p);
  for (const p of b.keys()) if (!a.has(p)) changed.push(p);
  return changed;
}

async function runHostile(sc) {
  const f = makeFindings(sc.name);
  const sb = await makeSandbox({CAPIT_PLUGIN_TIMEOUT_MS: String(PLUGIN_TIMEOUT_MS)});
  try {
    const files = AGENTS[sc.agent].files(sb.env);
    for (const file of files) writeSeed(file);
    const target = files.find(x => x.id === sc.fileId);
    sc.make(target, sb);
    const before = treeSnapshot(sb);
    const r = await runCapit(sb, installArgs(sc.agent));
    checkRun(f, r, `install into a hostile file`);
    const label = `${sc.hostileKind} ${sc.agent}/${sc.fileId}`;
    const alive = [...sb.emu.state.keys.values()];
    if (r.exitCode === 0) {
      checkInstallClaim(f, sb, sc.agent, r, `install (${label})`);
      const restore = await runCapit(sb, [`restore`, sc.agent, `--yes`]);
      checkRun(f, restore, `restore`);
      checkRestoreClaim(f, sb, restore, `restore`);
      const left = treeDiff(before, treeSnapshot(sb)).map(p => path.relative(sb.home, p));
      if (left.length > 0) f.note(`restore left changes`, `${label}: ${left.slice(0, 3).join(`, `)}`);
    } else if (!r.killed && !r.hung) {
      const changed = treeDiff(before, treeSnapshot(sb)).map(p => path.relative(sb.home, p));
      const files = changed.filter(p => !fs.existsSync(path.join(sb.home, p)) || !fs.lstatSync(path.join(sb.home, p)).isDirectory());
      if (files.length > 0) f.flag(`corrupted`, `${label}: refused (exit ${r.exitCode}) but changed ${files.slice(0, 3).join(`, `)}`);
      else if (changed.length > 0) f.note(`refusal left directories`, `${label}: ${changed.slice(0, 3).join(`, `)}`);
      if (alive.length > 0) f.note(`refusal after a key was created`, `${label}: ${firstLine(r.stderr)}`);
      if (r.stderr.trim().split(`\n`).filter(l => !/^\s*(hint|→)/i.test(l)).length > 2) f.note(`refusal longer than a line`, `${label}: ${firstLine(r.stderr)}`);
      f.note(r.exitCode === 1 ? `refused` : `refused with exit ${r.exitCode} (a bad file is exit 1)`, `${label}: exit ${r.exitCode}: ${firstLine(r.stderr)}`);
    }
    checkOrphans(f, sb, label);
    checkDeletedKeyInstalls(f, sb, label);
    checkStraySecrets(f, sb, label);
  } finally {
    await sb.dispose();
  }
  return f;
}

// ---------------------------------------------------------------------------------------------------------------
// the campaign

async function pool(items, concurrency, fn) {
  const results = new Array(items.length);
  let nextIndex = 0;
  const worker = async () => {
    for (;;) {
      const i = nextIndex++;
      if (i >= items.length) return;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({length: Math.min(concurrency, items.length)}, worker));
  return results;
}

/**
 * Runs the scenarios and returns {seed, results, totals}. `only` keeps scenarios whose name equals it or starts with
 * it (`kill`, `fault-create`, `hostile-opencode-auth-fifo`…). `onResult` sees each finished scenario.
 */
export async function runCampaign({seed, kills = 500, faults = true, hostile = true, only, concurrency = 2, sliceFaults = false, sliceHostile = false, onResult} = {}) {
  let scenarios = [
    ...killScenarios(kills, seed),
    ...(faults ? (sliceFaults ? faultSlice(seed) : faultScenarios()) : []),
    ...(hostile ? (sliceHostile ? hostileSlice(seed) : hostileScenarios()) : []),
  ];
  if (only) scenarios = scenarios.filter(s => s.name === only || s.name.startsWith(only));
  const killAgents = [...new Set(scenarios.filter(s => s.kind === `kill`).map(s => s.agent))];
  const ctx = {calibration: killAgents.length > 0 ? await calibrate(killAgents) : {}};
  const results = await pool(scenarios, concurrency, async sc => {
    let f;
    try {
      f = sc.kind === `kill` ? await runKill(sc, ctx) : sc.kind === `fault` ? await runFault(sc) : await runHostile(sc);
    } catch (err) {
      f = makeFindings(sc.name);
      f.note(`harness error`, String(err?.stack ?? err).split(`\n`).slice(0, 2).join(` `));
    }
    f.kind = sc.kind;
    f.group = sc.kind === `kill` ? sc.agent : sc.kind === `fault` ? `${sc.endpoint.id}` : sc.hostileKind;
    f.detail = sc.detail;
    onResult?.(f);
    return f;
  });
  return {seed, ctx, results, totals: totalsOf(results)};
}

/** Each fault kind once, on an endpoint picked by the seed (the create endpoint first: it matters most). */
export function faultSlice(seed) {
  const rng = makeRng(seed ^ 0x5eed);
  return FAULT_KINDS.map((fault, i) => {
    const endpoint = i < 4 ? FAULT_ENDPOINTS[0] : rng.pick(FAULT_ENDPOINTS);
    return {kind: `fault`, name: `fault-${endpoint.id}-${fault.id}`, endpoint, fault};
  });
}

/** Each hostile kind once, on a file picked by the seed. */
export function hostileSlice(seed) {
  const rng = makeRng(seed ^ 0xf11e);
  const all = hostileScenarios();
  return HOSTILE_KINDS.map(kind => rng.pick(all.filter(s => s.hostileKind === kind))).filter(Boolean);
}

export function totalsOf(results) {
  const byKind = {};
  for (const r of results) {
    const t = (byKind[r.kind] ??= {scenarios: 0, ...Object.fromEntries(COUNTERS.map(c => [c, 0]))});
    t.scenarios++;
    for (const c of COUNTERS) t[c] += r.counters[c];
  }
  const all = {scenarios: results.length, ...Object.fromEntries(COUNTERS.map(c => [c, results.reduce((n, r) => n + r.counters[c], 0)]))};
  const notes = {};
  for (const r of results)
    for (const n of r.notes) {
      const key = r.kind === `kill` ? `${r.kind}: ${n.kind}` : `${r.kind} [${r.group}]: ${n.kind}`;
      notes[key] = (notes[key] ?? 0) + 1;
    }
  // Non-zero counters per group (agent for kills, endpoint for faults, file kind for hostile files).
  const byGroup = {};
  for (const r of results)
    for (const c of COUNTERS)
      if (r.counters[c] > 0) {
        const key = `${r.kind} [${r.group}]`;
        byGroup[key] ??= {};
        byGroup[key][c] = (byGroup[key][c] ?? 0) + 1;
      }
  return {byKind, all, notes, byGroup};
}

/** The summary table: scenario counts and every counter per kind, the seed, and how to replay a failure. */
export function formatSummary({seed, results, totals}, {details = 3} = {}) {
  const kinds = Object.keys(totals.byKind);
  const head = [`counter`, ...kinds, `total`];
  const rows = [[`scenarios`, ...kinds.map(k => totals.byKind[k].scenarios), totals.all.scenarios]];
  for (const c of COUNTERS) rows.push([COUNTER_TITLES[c], ...kinds.map(k => totals.byKind[k][c]), totals.all[c]]);
  const widths = head.map((h, i) => Math.max(String(h).length, ...rows.map(r => String(r[i]).length)));
  const line = r => r.map((v, i) => (i === 0 ? String(v).padEnd(widths[i]) : String(v).padStart(widths[i]))).join(`  `);
  const out = [`fault harness — seed ${seed}`, line(head), line(widths.map(w => `-`.repeat(w))), ...rows.map(line)];
  const groups = Object.keys(totals.byGroup).sort();
  if (groups.length > 0) {
    out.push(``, `non-zero counters by group:`);
    for (const g of groups) out.push(`  ${g}: ${Object.entries(totals.byGroup[g]).map(([c, n]) => `${COUNTER_TITLES[c]} ${n}`).join(`, `)}`);
  }
  const noteKeys = Object.keys(totals.notes).sort();
  if (noteKeys.length > 0) {
    out.push(``, `other observations (not counters):`);
    for (const k of noteKeys) out.push(`  ${k}: ${totals.notes[k]}`);
  }
  const failing = results.filter(r => COUNTERS.some(c => r.counters[c] > 0));
  if (failing.length > 0) {
    out.push(``, `failing scenarios (${failing.length}); replay one with: node test/fault/soak.mjs --seed ${seed} --only <name>`);
    for (const r of failing.slice(0, 40)) {
      out.push(`  ${r.name}${r.detail ? ` (${r.detail})` : ``}`);
      for (const d of r.details.slice(0, details)) out.push(`      ${d}`);
    }
    if (failing.length > 40) out.push(`  … and ${failing.length - 40} more`);
  }
  return out.join(`\n`);
}

export {isIssuedSecret};

/** The building blocks, for the harness's own tests (checks must be able to fail). */
export const internals = {
  makeSandbox, makeFindings, agentState, readLedger, checkRun, checkCorruption, checkDeletedKeyInstalls, checkOrphans,
  checkStraySecrets, checkInstallClaim, checkRestoreClaim, installArgs,
};
