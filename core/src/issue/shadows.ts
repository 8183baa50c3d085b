import {openDocument}                                  from '../files/document.js';
import {readAgentText} from '../files/read.js';
import type {AgentDefinition, AgentEnvironment, KeySource} from '../plugin.js';

export interface KeySourceState {
  source: KeySource;
  /** Human label: `environment variable X` or `<path> → a.b.c`. */
  label: string;
  present: boolean;
  /** The file exists but cannot be parsed. */
  unreadable?: boolean;
}

export function describeSource(source: KeySource): string {
  if (source.kind === `env`) return `environment variable ${source.name}${source.at ? ` (${source.at.join(`.`)})` : ``}`;
  return `${source.path} (${source.at.join(`.`)})`;
}

/** Reads each declared key source (env var set, or a non-empty value at its path). Never returns the values. */
export async function inspectKeySources(def: AgentDefinition, envInfo: AgentEnvironment, platformId: string, detected: unknown): Promise<KeySourceState[]> {
  return inspectSources(def.keySources?.(envInfo, platformId, detected) ?? [], envInfo);
}

/** Reads each given source (env var set in `envInfo.env`, or a non-empty value at its path). Never returns the values. */
export async function inspectSources(sources: readonly KeySource[], envInfo: AgentEnvironment): Promise<KeySourceState[]> {
  const states: KeySourceState[] = [];
  for (const source of sources) {
    const label = describeSource(source);
    if (source.kind === `env`) {
      const text = envInfo.env[source.name];
      if (!source.at || !text) {
        states.push({source, label, present: Boolean(text)});
        continue;
      }
      // A variable holding inline JSON config: set only when it has a value at the path; JSON that does not parse is
      // reported as unreadable (capit cannot tell that it holds no key).
      try {
        const value = openDocument(`jsonc`, text, `$${source.name}`).read(source.at);
        states.push({source, label, present: value !== undefined && value !== null && value !== ``});
      } catch {
        states.push({source, label, present: false, unreadable: true});
      }
      continue;
    }
    let text: string;
    try {
      text = await readAgentText(source.path);
    } catch {
      states.push({source, label, present: false});
      continue;
    }
    try {
      const value = openDocument(source.format, text, source.path).read(source.at);
      states.push({source, label, present: value !== undefined && value !== null && value !== ``});
    } catch {
      states.push({source, label, present: false, unreadable: true});
    }
  }
  return states;
}

/** One line per source that is set and outranks the one capit writes. `detected` is the agent's `detect()` result of this run. */
export async function findShadows(def: AgentDefinition, envInfo: AgentEnvironment, platformId: string, detected: unknown): Promise<string[]> {
  const states = await inspectKeySources(def, envInfo, platformId, detected);
  const installs = states.findIndex(s => s.source.installs);
  const above = installs === -1 ? [] : states.slice(0, installs);
  return above
    .filter(s => s.present || s.unreadable)
    .map(s => `${s.label} ${s.unreadable ? `could not be read` : `is set`} and wins over what capit wrote${s.source.note ? ` (${s.source.note})` : ``}`);
}
