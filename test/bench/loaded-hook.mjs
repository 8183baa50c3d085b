// Module hooks for chunks.mjs: appends the URL of every file: module the process resolves to $CAPIT_BENCH_LOADED.
import {appendFileSync} from 'node:fs';

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (result.url.startsWith(`file:`)) appendFileSync(process.env.CAPIT_BENCH_LOADED, `${result.url}\n`);
  return result;
}
