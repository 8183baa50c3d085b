// What makes an agent's declared sources (`keySources()`, `sessionEnv().beatenBy`) nonsense: plugin bugs that would
// make doctor, the install's warnings or `capit run` judge the wrong thing. Used by core when it reads the sources (a
// clear plugin error) and by the conformance kit (a failing test for the plugin's author). No file access here.
import type {KeySource} from '../plugin.js';

const ROLES = new Set([undefined, `key`, `baseUrl`]);

function name(source: KeySource): string {
  if (source && typeof source === `object` && source.kind === `env`) return `env ${String(source.name)}`;
  if (source && typeof source === `object` && source.kind === `file`) return `${String(source.path)} (${Array.isArray(source.at) ? source.at.join(`.`) : `?`})`;
  return JSON.stringify(source) ?? String(source);
}

/**
 * The problems of a list of sources, empty when none: unknown `role`, `redirectsWhenSet` outside a base-URL source or
 * on one capit writes, an empty `flavour`, and more than one source capit writes per role in one flavour's view (its own
 * sources plus the unflavoured ones). Whether a source capit writes sits below one it does not is not checked: that is
 * a situation on the user's machine (doctor reports it), not a declaration error.
 */
export function keySourceProblems(sources: readonly KeySource[]): string[] {
  const problems: string[] = [];
  for (const source of sources) {
    if (!source || typeof source !== `object` || (source.kind !== `env` && source.kind !== `file`)) {
      problems.push(`a source of unknown kind: ${name(source)}`);
      continue;
    }
    if (!ROLES.has(source.role)) problems.push(`${name(source)} has role ${JSON.stringify(source.role)} (expected "key" or "baseUrl")`);
    if (source.redirectsWhenSet !== undefined && typeof source.redirectsWhenSet !== `boolean`)
      problems.push(`${name(source)} has redirectsWhenSet ${JSON.stringify(source.redirectsWhenSet)} (expected true or false)`);
    if (source.redirectsWhenSet && source.role !== `baseUrl`)
      problems.push(`${name(source)} has redirectsWhenSet but is not a base-URL source (add role: 'baseUrl', or drop redirectsWhenSet)`);
    if (source.redirectsWhenSet && source.installs)
      problems.push(`${name(source)} has redirectsWhenSet and installs: capit would write a value that sends requests away from the platform`);
    if (source.flavour !== undefined && (typeof source.flavour !== `string` || source.flavour.trim() === ``))
      problems.push(`${name(source)} has flavour ${JSON.stringify(source.flavour)} (expected a non-empty name, or no flavour)`);
  }
  const flavours = [...new Set(sources.map(s => s?.flavour).filter((f): f is string => typeof f === `string` && f.trim() !== ``))];
  for (const flavour of flavours.length > 0 ? flavours : [undefined]) {
    const seen = sources.filter(s => s && typeof s === `object` && (!s.flavour || s.flavour === flavour));
    for (const role of [`key`, `baseUrl`] as const) {
      const installs = seen.filter(s => s.installs && (s.role ?? `key`) === role);
      if (installs.length > 1)
        problems.push(`${installs.length} ${role === `key` ? `key` : `base-URL`} sources are marked installs${flavour ? ` for flavour ${flavour}` : ``} (${installs.map(name).join(`, `)}); capit writes one`);
    }
  }
  return problems;
}
