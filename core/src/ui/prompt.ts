import type {CapitContext} from '../context.js';

/** A yes/no question on the terminal; only called when `ctx.interactive`. */
export async function confirm(message: string, ctx: CapitContext): Promise<boolean> {
  const {default: ask} = await import(`@inquirer/confirm`);
  return ask({message, default: false}, {input: ctx.stdin, output: ctx.stderr});
}
