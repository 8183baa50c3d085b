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
