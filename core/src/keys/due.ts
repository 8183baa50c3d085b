// The cheap checks every command makes before it runs, from one read of the ledger: an install a killed run left half
// done (settled by issue/recover.ts) and top-ups whose time is up (taken back by keys/topup.ts). The code that acts is
// imported only when something is due, so a command with nothing pending pays one small file read.
import type {CapitContext}         from '../context.js';
import {clock, dueTopups, readLedger} from '../state/ledger.js';
import type {LedgerEntry}          from '../state/ledger.js';
import {capitPaths}                from '../state/paths.js';

async function ledgerOrNothing(ctx: CapitContext): Promise<LedgerEntry[]> {
  // An unreadable ledger is reported by the commands that need it, never by these checks.
  return readLedger(capitPaths(ctx.env).state).catch(() => []);
}

/** Takes back every top-up whose time is up. Never fails the command it precedes. */
export async function takeBackDueTopups(ctx: CapitContext, ledger?: LedgerEntry[]): Promise<void> {
  const now = clock(ctx.env);
  if (!(ledger ?? await ledgerOrNothing(ctx)).some(k => dueTopups(k, now).length > 0)) return;
  const {applyDueTakeBacks} = await import(`./topup.js`);
  await applyDueTakeBacks(ctx);
}

/** Before a command: settle interrupted installs (unless the command does so under its own lock), then due top-ups. */
export async function settleBeforeCommand(ctx: CapitContext, opts: {recovers: boolean}): Promise<void> {
  const ledger = await ledgerOrNothing(ctx);
  if (opts.recovers && ledger.some(k => k.status === `pending` && k.backupDir)) {
    const {recoverBeforeCommand} = await import(`../issue/recover.js`);
    await recoverBeforeCommand(capitPaths(ctx.env).state, ctx);
  }
  await takeBackDueTopups(ctx, ledger);
}
