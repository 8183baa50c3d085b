// The README's agent × layer table, made from what the built-in agent plugins declare: every key and base-URL source
// of `keySources()` in the agent's own order, for each platform the agent supports, with how that place in the order is
// known (`checked`). Paths are shown for a Linux user in a project folder, with no override variables set.
// `node test/readme/agent-layers.mjs --write` rewrites the block between the markers; test/readme/matrix.test.ts fails
// when the README and the plugins disagree.
import {README, blockBetween, builtins, cell, generatorMain, pluginDefinition} from './readme-block.mjs';
import {configReader} from '../../core/dist/files/config-reader.js';

export {README};
export const BEGIN = `<!-- agent-layers: made by test/readme/agent-layers.mjs -->`;
export const END = `<!-- /agent-layers -->`;

const HOME = `/home/user`;
const CWD = `/home/user/project`;

const shown = p => p.startsWith(`${CWD}/`) ? `./${p.slice(CWD.length + 1)}` : p.startsWith(`${HOME}/`) ? `~/${p.slice(HOME.length + 1)}` : p;

function label(source) {
  const at = source.at ? ` \`${source.at.join(`.`)}\`` : ``;
  return source.kind === `env` ? `env \`${source.name}\`${at}` : `\`${shown(source.path)}\`${at}`;
}

export async function layers() {
  // A plain Linux machine without the agents: detect() sees an empty home.
  const envInfo = {env: {HOME}, home: HOME, cwd: CWD, platform: `linux`};
  const rows = [];
  for (const {dir, pkg} of builtins(`agent`)) {
    const manifest = pkg.capit;
    const def = await pluginDefinition({dir, pkg});
    const detected = def.detect ? await def.detect(envInfo, configReader()) : undefined;
    const shape = list => JSON.stringify(list.map(label)).replace(/aihubmix/gi, `openrouter`);
    const openrouter = def.keySources?.(envInfo, `openrouter`, detected) ?? [];
    for (const platform of manifest.platforms ?? []) {
      const sources = def.keySources?.(envInfo, platform, detected) ?? [];
      // Another platform through the same layers (only its names differ) adds nothing to read.
      if (platform !== `openrouter` && shape(sources) === shape(openrouter)) continue;
      for (const [i, source] of sources.entries()) {
        const what = source.role === `baseUrl` ? `base URL${source.redirectsWhenSet ? ` (any value)` : ``}` : source.role === `selector` ? `selector (capit's: \`${source.selects}\`)` : `key`;
        rows.push(`| ${i === 0 ? `\`${manifest.id}\` · ${platform}` : ``} | ${i + 1} | ${label(source)}${source.installs ? ` — **capit writes**` : ``} | ${what}${source.flavour ? ` · ${cell(source.flavour)}` : ``} | ${source.checked ? cell(source.checked) : `—`} |`);
      }
    }
  }
  return [`| agent · platform | # | layer (highest precedence first) | holds | how its place is known |`, `|---|---|---|---|---|`, ...rows].join(`\n`);
}

export const currentBlock = text => blockBetween(text, BEGIN, END);

await generatorMain(import.meta.url, BEGIN, END, layers);
