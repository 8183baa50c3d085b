#!/usr/bin/env node
import {readFileSync} from 'node:fs';

const argv = process.argv.slice(2);
// `--version` is answered before loading anything else: it is what scripts and shells call most.
if (argv.length === 1 && (argv[0] === `--version` || argv[0] === `-v`)) {
  process.stdout.write(`${(JSON.parse(readFileSync(new URL(`../package.json`, import.meta.url), `utf8`)) as {version: string}).version}\n`);
} else {
  const {main} = await import(`./main.js`);
  process.exitCode = await main(argv);
}
