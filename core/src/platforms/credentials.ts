import fs   from 'node:fs/promises';
import path from 'node:path';

import {CapitError}                 from '../errors.js';
import {ensureDir, removeStrayTempFiles, writeFileAtomic} from '../files/atomic.js';

export interface StoredCredential {
  key: string;
  addedAt: string;
}

interface CredentialsFile {
  version: 1;
  platforms: Record<string, StoredCredential>;
}

export function credentialsPath(configDir: string): string {
  return path.join(configDir, `credentials.json`);
}

/** Reads the master-key store; refuses a corrupt or group/world-readable file rather than guessing. */
export async function readCredentials(configDir: string): Promise<Record<string, StoredCredential>> {
  const file = credentialsPath(configDir);
  let text: string;
  let mode: number;
  try {
    const [stat, body] = await Promise.all([fs.stat(file), fs.readFile(file, `utf8`)]);
    mode = stat.mode;
    text = body;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === `ENOENT`) return {};
    throw error;
  }
  // A config file capit cannot use is a failure (exit 1), not bad input; the fix is in the message itself, so the
  // refusal stays one line.
  if (process.platform !== `win32` && (mode & 0o077) !== 0) {
    throw new CapitError(`CAPIT_CREDENTIALS_EXPOSED`, `${file} is readable by other users (mode ${(mode & 0o777).toString(8)}); capit will not use it — fix with: chmod 600 ${file}`);
  }
  try {
    const parsed = JSON.parse(text) as CredentialsFile;
    if (typeof parsed !== `object` || parsed === null || typeof parsed.platforms !== `object` || parsed.platforms === null || Array.isArray(parsed.platforms))
      throw new Error(`no "platforms" object`);
    for (const [id, entry] of Object.entries(parsed.platforms))
      if (typeof entry !== `object` || entry === null || typeof entry.key !== `string`) throw new Error(`entry "${id}" has no "key" string`);
    return parsed.platforms;
  } catch (error) {
    throw new CapitError(`CAPIT_CREDENTIALS_CORRUPT`, `${file} is corrupt (${(error as Error).message}); capit will not use it — move it aside (mv ${file} ${file}.bad) and add your master keys again with: capit platforms add <platform>`);
  }
}

/**
 * Read-modify-write of the master-key store: refuses a corrupt or exposed file (never overwrites it), writes
 * atomically with mode 0600 in a 0700 directory. Callers hold the capit lock.
 */
export async function updateCredentials(
  configDir: string,
  change: (platforms: Record<string, StoredCredential>) => Record<string, StoredCredential>,
): Promise<void> {
  const platforms = change({...await readCredentials(configDir)});
  await ensureDir(configDir, 0o700);
  // capit's own config dir holds secrets: tighten it if something loosened it.
  if (process.platform !== `win32`) {
    const stat = await fs.stat(configDir);
    if ((stat.mode & 0o077) !== 0) await fs.chmod(configDir, 0o700);
  }
  const body: CredentialsFile = {version: 1, platforms};
  // A run killed mid-write leaves a temp file holding master keys: remove it before writing the next one.
  await removeStrayTempFiles(credentialsPath(configDir));
  await writeFileAtomic(credentialsPath(configDir), `${JSON.stringify(body, null, 2)}\n`, {mode: 0o600});
}
