import {createRequire} from 'node:module';

// yaml (~160 kB) and diff are needed only for YAML files and for showing a diff, so they are required on first use
// instead of being parsed at every start. A local `require` also keeps the bundler from inlining them.
const require = createRequire(import.meta.url);

let yamlLib: typeof import('yaml') | undefined;
let diffLib: typeof import('diff') | undefined;

export function yamlLibrary(): typeof import('yaml') {
  return (yamlLib ??= require(`yaml`) as typeof import('yaml'));
}

export function diffLibrary(): typeof import('diff') {
  return (diffLib ??= require(`diff`) as typeof import('diff'));
}
