// What makes an agent's declared sources (`keySources()`, `sessionEnv().beatenBy`) nonsense: plugin bugs that would
// make doctor, the install's warnings or `capit run` judge the wrong thing. Used by core when it reads the sources (a
// clear plugin error) and by the conformance kit (a failing test for the plugin's author). No file access here.
import type {KeySource} from '../plugin.js';

const ROLES = new Set([undefined, `key`, `baseUrl`, `selector`]);

function name(source: KeySource): string {
  if (source && typeof source === `object` && source.kind === `env`) return `env ${String(source.name)}`;
  if (source && typeof source === `object` && source.kind === `file`) return `${String(source.path)} (${Array.isArray(source.at) ? source.at.join(`.`) : `?`})`;
  return JSON.stringify(source) ?? String(source);
}

/**
 * The problems of a list of sources, empty when none: unknown `role`, `redirectsWhenSet` outside a base-URL source or
 * on one capit writes, `selects` without role `selector` (or a selector without it), `truthy` outside a key source,
 * an empty `flavour`. Not checked: how many sources are marked `installs` (an IDE agent lists one per
 * extension it configures), and whether a source capit writes sits below one it does not (a situation on the user's
 * machine, which doctor reports, not a declaration error).
 */
export function keySourceProblems(sources: readonly KeySource[]): string[] {
  const problems: string[] = [];
  for (const source of sources) {
    if (!source || typeof source !== `object` || (source.kind !== `env` && source.kind !== `file`)) {
      problems.push(`a source of unknown kind: ${name(source)}`);
      continue;
    }
    if (!ROLES.has(source.role)) problems.push(`${name(source)} has role ${JSON.stringify(source.role)} (expected "key", "baseUrl" or "selector")`);
    if (source.role === `selector` && (typeof source.selects !== `string` || source.selects === ``))
      problems.push(`${name(source)} is a selector without selects (the value that selects capit's entry)`);
    if (source.selects !== undefined && source.role !== `selector`)
      problems.push(`${name(source)} has selects but is not a selector source (add role: 'selector', or drop selects)`);
    if (source.setting !== undefined && (source.role !== `selector` || typeof source.setting !== `string` || source.setting === ``))
      problems.push(`${name(source)} has setting but is not a selector source with a non-empty setting name`);
    if (source.truthy !== undefined && typeof source.truthy !== `boolean`)
      problems.push(`${name(source)} has truthy ${JSON.stringify(source.truthy)} (expected true or false)`);
    if (source.truthy && source.role !== undefined && source.role !== `key`)
      problems.push(`${name(source)} has truthy but is not a key source (a switch)`);
    if (source.redirectsWhenSet !== undefined && typeof source.redirectsWhenSet !== `boolean`)
      problems.push(`${name(source)} has redirectsWhenSet ${JSON.stringify(source.redirectsWhenSet)} (expected true or false)`);
    if (source.redirectsWhenSet && source.role !== `baseUrl`)
      problems.push(`${name(source)} has redirectsWhenSet but is not a base-URL source (add role: 'baseUrl', or drop redirectsWhenSet)`);
    if (source.redirectsWhenSet && source.installs)
      problems.push(`${name(source)} has redirectsWhenSet and installs: capit would write a value that sends requests away from the platform`);
    if (source.flavour !== undefined && (typeof source.flavour !== `string` || source.flavour.trim() === ``))
      problems.push(`${name(source)} has flavour ${JSON.stringify(source.flavour)} (expected a non-empty name, or no flavour)`);
  }
  return problems;
}
