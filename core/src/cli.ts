import {secretDelivery} from './ui/deliver.js';

// `capit keys list | head`: a reader that stops early is not an error worth a stack trace. Except for a key shown
// once: issueKey handles that write's failure itself (the key is deleted, exit 1), so it must not exit here.
process.stdout.on(`error`, (error: NodeJS.ErrnoException) => {
  if (secretDelivery.active) return;
  if (error.code === `EPIPE`) process.exit(process.exitCode ?? 0);
  throw error;
});

const argv = process.argv.slice(2);
if (argv.length === 0 || (argv.length === 1 && [`-h`, `--help`, `help`].includes(argv[0]!))) {
  // `capit`, `capit -h|--help|help`: print the cached rendering when nothing it depends on has changed.
  const {helpKey: keyFor, readCachedHelp, wantsColor} = await import(`./ui/help-cache.js`);
  const helpKey = keyFor(process.env, process.cwd(), wantsColor(process.env, process.stdout));
  const cached = readCachedHelp(process.env, helpKey);
  if (cached) {
    process.stderr.write(cached.stderr);
    process.stdout.write(cached.stdout);
  } else {
    const {main} = await import(`./main.js`);
    process.exitCode = await main(argv, {helpKey});
  }
} else {
  const {main} = await import(`./main.js`);
  process.exitCode = await main(argv);
}
