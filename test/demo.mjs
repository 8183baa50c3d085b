// npm run demo: issue a $5 key into opencode against the local OpenRouter emulator, list it, spend it until the
// provider refuses, and restore opencode's config byte for byte — all in a throwaway HOME.
import {spawn}     from 'node:child_process';
import fs          from 'node:fs';
import os          from 'node:os';
import path        from 'node:path';

import {startEmulator} from './emulator/server.mjs';

const CLI = path.resolve(import.meta.dirname, `../core/bin/capit.js`);
const root = fs.mkdtempSync(path.join(os.tmpdir(), `capit-demo-`));
const home = path.join(root, `home`);
const emulator = await startEmulator({port: 0, pricePerRequestUsd: 0.5});
const env = {
  PATH: process.env.PATH ?? ``,
  HOME: home,
  XDG_CONFIG_HOME: path.join(home, `.config`),
  XDG_DATA_HOME: path.join(home, `.local`, `share`),
  XDG_STATE_HOME: path.join(home, `.local`, `state`),
  CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl,
  OPENROUTER_MANAGEMENT_KEY: `sk-or-v1-mgmt-fake-0000`,
  NO_COLOR: `1`,
};
const shown = text => text.replaceAll(root, `$DEMO`);

// Async spawn: the emulator lives in this process and must keep answering while capit runs.
function capit(...args) {
  process.stdout.write(`\n$ capit ${args.join(` `)}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {env, stdio: [`ignore`, `pipe`, `pipe`]});
    let output = ``;
    child.stdout.on(`data`, chunk => (output += chunk));
    child.stderr.on(`data`, chunk => (output += chunk));
    child.on(`error`, reject);
    child.on(`close`, status => {
      process.stdout.write(shown(output));
      if (status === 0) resolve();
      else reject(new Error(`capit ${args.join(` `)} exited ${status}`));
    });
  });
}

let exitCode = 0;
try {
  console.log(`capit demo — OpenRouter emulator at ${emulator.url}, throwaway HOME at ${root}`);
  const authFile = path.join(env.XDG_DATA_HOME, `opencode`, `auth.json`);
  fs.mkdirSync(path.dirname(authFile), {recursive: true});
  const before = `{\n  "anthropic": {\n    "type": "api",\n    "key": "sk-ant-demo-fake-0000"\n  }\n}\n`;
  fs.writeFileSync(authFile, before, {mode: 0o600});
  console.log(`\nopencode's auth.json before (another provider already configured):\n${before}`);

  await capit(`openrouter`, `5`, `--agent`, `opencode`, `--yes`);
  const secret = JSON.parse(fs.readFileSync(authFile, `utf8`)).openrouter.key;
  console.log(`\nauth.json now holds an openrouter entry (key ${secret.slice(0, 12)}…${secret.slice(-4)}) next to anthropic.`);

  await capit(`keys`, `list`);

  console.log(`\nopencode spends the key (the emulator charges $0.50 per request):`);
  for (let i = 1; i <= 20; i++) {
    const res = await fetch(`${emulator.openrouterBaseUrl}/chat/completions`, {
      method: `POST`,
      headers: {authorization: `Bearer ${secret}`, 'content-type': `application/json`},
      body: JSON.stringify({model: `anthropic/claude-sonnet-4.5`, messages: [{role: `user`, content: `fix the bug`}]}),
    });
    const body = await res.json();
    if (res.ok) {
      console.log(`  request ${String(i).padStart(2)}: ${res.status} ok, $${body.usage.cost.toFixed(2)}`);
    } else {
      console.log(`  request ${String(i).padStart(2)}: ${res.status} ${body.error.message}`);
      console.log(`The provider refused: the agent cannot spend more than $5.00.`);
      break;
    }
  }

  await capit(`keys`, `list`);
  await capit(`restore`, `opencode`, `--yes`);
  const identical = fs.readFileSync(authFile, `utf8`) === before;
  console.log(`\nauth.json is byte-for-byte what it was before: ${identical ? `yes` : `NO`}`);
  if (!identical) exitCode = 1;

  const [key] = [...emulator.state.keys.values()];
  await capit(`keys`, `delete`, key.name, `--yes`);
  console.log(`\nKeys left at the provider: ${emulator.state.keys.size}`);
} catch (error) {
  console.error(`demo failed: ${error.message}`);
  exitCode = 1;
} finally {
  await emulator.close();
  fs.rmSync(root, {recursive: true, force: true});
}
process.exit(exitCode);
