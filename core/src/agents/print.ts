// Printing for `capit agents` and `capit doctor` (the data functions are in list.ts / doctor.ts for the GUI).
import type {CapitContext}  from '../context.js';
import {tildify}            from './install.js';
import {homeDir}            from '../state/paths.js';

function json(ctx: CapitContext, value: unknown) {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export async function runAgents(opts: {json: boolean; paths: `detected` | `all` | false}, ctx: CapitContext): Promise<number> {
  const {listAgents} = await import(`./list.js`);
  const agents = await listAgents(ctx, {paths: opts.paths});
  if (opts.json) {
    json(ctx, agents);
    return 0;
  }
  if (agents.length === 0) {
    ctx.stdout.write(`No agent plugins installed.\n`);
    return 0;
  }
  const home = homeDir(ctx.env);
  const width = Math.max(...agents.map(a => a.id.length));
  for (const agent of agents) {
    const detected = agent.detected ? `detected` : `not detected`;
    ctx.stdout.write(`${agent.id.padEnd(width)}  ${agent.name} — ${detected}${agent.source === `builtin` ? `` : ` (${agent.source} plugin ${agent.packageName})`}\n`);
    const pad = ` `.repeat(width + 2);
    if (agent.verified) {
      const platforms = Object.entries(agent.verified).map(([id, by]) => `${id} (${by ? `verified with ${by}` : `files only`})`);
      ctx.stdout.write(`${pad}platforms: ${platforms.join(`, `)}\n`);
    }
    if (agent.covers) ctx.stdout.write(`${pad}cap covers: ${agent.covers}\n`);
    if (agent.configPaths && agent.configPaths.length > 0)
      for (const [i, p] of agent.configPaths.entries()) ctx.stdout.write(`${pad}${i === 0 ? `config: ` : `        `}${tildify(p, home)}\n`);
    ctx.stdout.write(`${pad}status: ${agent.error ?? agent.status}\n`);
  }
  return 0;
}

export async function runDoctor(opts: {agent?: string; json: boolean}, ctx: CapitContext): Promise<number> {
  const {doctor, doctorFailed} = await import(`./doctor.js`);
  const reports = await doctor(opts.agent, ctx);
  const failed = reports.some(doctorFailed);
  if (opts.json) {
    json(ctx, reports);
    return failed ? 1 : 0;
  }
  if (reports.length === 0) {
    ctx.stdout.write(`No agent detected and no capit install found. Check one with: capit doctor <agent>\n`);
    return 0;
  }
  const width = Math.max(...reports.map(r => r.agent.length));
  for (const report of reports) {
    ctx.stdout.write(`${report.agent.padEnd(width)}  ${report.message}\n`);
    for (const fix of report.fixes) ctx.stdout.write(`${` `.repeat(width + 2)}${fix}\n`);
    if (report.expiryWarning) ctx.stdout.write(`${` `.repeat(width + 2)}warning: ${report.expiryWarning}\n`);
  }
  const verdicts = (r: (typeof reports)[number]) => (r.flavours.length > 0 ? r.flavours : [r]);
  const shadowed = reports.filter(r => verdicts(r).some(v => v.status === `shadowed` || (v.status === `redirected` && v.shadowedBy.length > 0)));
  const redirected = reports.filter(r => verdicts(r).some(v => v.status === `redirected`));
  if (shadowed.length > 0) ctx.stderr.write(`capit: the capped key is not used by: ${shadowed.map(r => r.agent).join(`, `)}\n`);
  if (redirected.length > 0) ctx.stderr.write(`capit: requests do not go to the capped key's platform for: ${redirected.map(r => r.agent).join(`, `)}\n`);
  // The other reasons doctor exits 1: the key capit wrote was replaced, or capit cannot tell which key is used.
  const changed = reports.filter(r => verdicts(r).some(v => v.status === `changed`));
  const unproven = reports.filter(r => r.installed !== null && verdicts(r).some(v => v.status === `unknown` || v.status === `error`));
  if (changed.length > 0) ctx.stderr.write(`capit: the capped key capit installed is no longer in the config of: ${changed.map(r => r.agent).join(`, `)}\n`);
  if (unproven.length > 0) ctx.stderr.write(`capit: capit cannot tell that the capped key is used by: ${unproven.map(r => r.agent).join(`, `)}\n`);
  return failed ? 1 : 0;
}
