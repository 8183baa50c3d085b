
const argv = process.argv.slice(2);
// `--version` is answered before loading anything else: it is what scripts and shells call most.
if (argv.length === 1 && (argv[0] === `--version` || argv[0] === `-v`)) {
  const {capitVersion} = await import(`./self.js`);
  process.stdout.write(`${capitVersion()}\n`);
} else {
  const {main} = await import(`./main.js`);
  process.exitCode = await main(argv);
}
