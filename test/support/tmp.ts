import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';
import {onTestFinished} from 'vitest';

/** A fresh temp dir removed when the current test ends. */
export function tempDir(prefix = `capit-`): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  onTestFinished(() => fs.rmSync(dir, {recursive: true, force: true}));
  return dir;
}

/** A sandbox environment for spawning the CLI: temp HOME, CAPIT_HOME and XDG dirs, no colours, no inherited keys. */
export function sandboxEnv(root: string, extra: Record<string, string> = {}): Record<string, string> {
  const home = path.join(root, `home`);
  fs.mkdirSync(home, {recursive: true});
  return {
    PATH: process.env.PATH ?? ``,
    HOME: home,
    USERPROFILE: home,
    CAPIT_HOME: path.join(root, `capit`),
    XDG_CONFIG_HOME: path.join(home, `.config`),
    XDG_STATE_HOME: path.join(home, `.local`, `state`),
    XDG_DATA_HOME: path.join(home, `.local`, `share`),
    NO_COLOR: `1`,
    FORCE_COLOR: `0`,
    NODE_OPTIONS: ``,
    ...extra,
  };
}

/** Every file under `dir` (relative path → base64), to prove a run changed nothing. */
export function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, {withFileTypes: true})) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p, `base64`);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}
