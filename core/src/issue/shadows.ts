import fs from 'node:fs/promises';

import {openDocument}                                  from '../files/document.js';
import type {AgentDefinition, AgentEnvironment}         from '../plugin.js';

/** Evaluates an agent's declared shadow checks; returns one line per source that would win over capit's key. */
export async function findShadows(def: AgentDefinition, envInfo: AgentEnvironment, platformId: string): Promise<string[]> {
  const found: string[] = [];
  for (const check of def.shadows?.(envInfo, platformId) ?? []) {
    if (check.kind === `env`) {
      if (envInfo.env[check.name]) found.push(`environment variable ${check.name} is set: ${check.reason}`);
      continue;
    }
    let text: string;
    try {
      text = await fs.readFile(check.path, `utf8`);
    } catch {
      continue;
    }
    try {
      const value = openDocument(check.format, text, check.path).read(check.at);
      if (value !== undefined && value !== null && value !== ``)
        found.push(`${check.path} sets ${check.at.join(`.`)}: ${check.reason}`);
    } catch {
      found.push(`${check.path} could not be read to check ${check.at.join(`.`)}: ${check.reason}`);
    }
  }
  return found;
}
