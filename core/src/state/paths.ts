import os   from 'node:os';
import path from 'node:path';

export type Env = Readonly<Record<string, string | undefined>>;

export interface CapitPaths {
  config: string;
  state: string;
  data: string;
}

export function homeDir(env: Env): string {
  return env.HOME || env.USERPROFILE || os.homedir();
}

/** Expands a leading `~` and `${VAR}` / `${VAR:-default}` against `env`. */
export function expandPath(input: string, env: Env): string {
  const expanded = input.replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (_, name: string, fallback?: string) => {
    const value = env[name];
    return value ? value : fallback ?? ``;
  });
  if (expanded === `~`) return homeDir(env);
  if (expanded.startsWith(`~/`) || expanded.startsWith(`~\\`)) return path.join(homeDir(env), expanded.slice(2));
  return expanded;
}

// `CAPIT_HOME` relocates everything at once, so tests and the demo never touch the user's real state.
export function capitPaths(env: Env): CapitPaths {
  if (env.CAPIT_HOME) {
    const root = path.resolve(env.CAPIT_HOME);
    return {config: path.join(root, `config`), state: path.join(root, `state`), data: path.join(root, `data`)};
  }
  const home = homeDir(env);
  return {
    config: path.join(env.XDG_CONFIG_HOME || path.join(home, `.config`), `capit`),
    state: path.join(env.XDG_STATE_HOME || path.join(home, `.local`, `state`), `capit`),
    data: path.join(env.XDG_DATA_HOME || path.join(home, `.local`, `share`), `capit`),
  };
}
