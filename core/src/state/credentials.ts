import fs   from 'node:fs/promises';
import path from 'node:path';

import {CapitError} from '../errors.js';

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
  if (process.platform !== `win32` && (mode & 0o077) !== 0) {
    throw new CapitError(`CAPIT_CREDENTIALS_EXPOSED`, `${file} is readable by other users (mode ${(mode & 0o777).toString(8)}); capit will not use it`, {
      hint: `Run: chmod 600 ${file}`,
      exitCode: 2,
    });
  }
  try {
    const parsed = JSON.parse(text) as CredentialsFile;
    if (typeof parsed !== `object` || parsed === null || typeof parsed.platforms !== `object`) throw new Error(`no "platforms" object`);
    return parsed.platforms;
  } catch (error) {
    throw new CapitError(`CAPIT_CREDENTIALS_CORRUPT`, `${file} is corrupt (${(error as Error).message})`, {
      hint: `Remove it and add your master keys again with: capit platforms add <platform>`,
      exitCode: 2,
    });
  }
}
