// The README's agent × layer table, made from what the built-in agent plugins declare: every key and base-URL source
// of `keySources()` in the agent's own order, for each platform the agent supports, with how that place in the order is
// known (`checked`). Paths are shown for a Linux user in a project folder, with no override variables set.
// `node test/readme/agent-layers.mjs --write` rewrites the block between the markers; test/readme/matrix.test.ts fails
// when the README and the plugins disagree.
import fs   from 'node:fs';
import path from 'node:path';
import {pathToFileURL} from 'node:url';

const REPO = path.resolve(import.meta.dirname, `../..`);
export const README = path.join(REPO, `README.md`);
export const BEGIN = `<!-- agent-layers: made by test/readme/agent-layers.mjs -->`;
export const END = `<!-- /agent-layers -->`;

const HOME = `/home/user`;
const CWD = `/home/user/project`;

function builtinAgents() {
  const core = JSON.parse(fs.readFileSync(path.join(REPO, `core/package.json`), `utf8`));
  return Object.keys(core.dependencies).filter(n => n.startsWith(`capit-agent-`)).map(n => {
    const dir = path.join(REPO, `plugins`, `agent-${n.slice(`capit-agent-`.length)}`);
    return {dir, pkg: JSON.parse(fs.readFileSync(path.join(dir, `package.json`), `utf8`))};
  });
}

const cell = text => String(text).replace(/\|/g, `\\|`).replace(/\n/g, ` `);
const shown = p => p.startsWith(`${CWD}/`) ? `./${p.slice(CWD.length + 1)}` : p.startsWith(`${HOME}/`) ? `~/${p.slice(HOME.length + 1)}` : p;

function label(source) {
  const at = source.at ? ` \`${source.at.join(`.`)}\`` : ``;
  return source.kind === `env` ? `env \`${source.name}\`${at}` : `\`${shown(source.path)}\`${at}`;
}

export async function layers() {
  // A plain Linux machine without the agents: detect() sees an empty home.
  const envInfo = {env: {HOME}, home: HOME, cwd: CWD, platform: `linux`};
  const rows = [];
  for (const {dir, pkg} of builtinAgents()) {
    const manifest = pkg.capit;
    const def = (await import(pathToFileURL(path.join(dir, manifest.entry)).href)).default;
    const detected = def.detect ? await def.detect(envInfo) : undefined;
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

export function currentBlock(text) {
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a === -1 || b === -1 || b < a) return null;
  return text.slice(a + BEGIN.length, b).trim();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? ``).href) {
  const table = await layers();
  if (process.argv.includes(`--write`)) {
    const text = fs.readFileSync(README, `utf8`);
    if (currentBlock(text) === null) throw new Error(`README.md has no ${BEGIN} … ${END} block`);
    const a = text.indexOf(BEGIN) + BEGIN.length;
    fs.writeFileSync(README, `${text.slice(0, a)}\n${table}\n${text.slice(text.indexOf(END))}`);
  } else {
    process.stdout.write(`${table}\n`);
  }
}
