
import {setFlagsFromString} from 'node:v8';

// Node's fetch parses HTTP with llhttp compiled to WebAssembly; V8 then re-compiles it with TurboFan on a background
// thread, and the process waits for that job before it can exit (~50 ms here, a fifth of an install). Baseline
// (Liftoff) code is plenty for a CLI's few requests. Must run before the first fetch.
setFlagsFromString(`--liftoff-only`);

const argv = process.argv.slice(2);
// `--version` is answered before loading anything else: it is what scripts and shells call most.
if (argv.length === 1 && (argv[0] === `--version` || argv[0] === `-v`)) {
  const {capitVersion} = await import(`./self.js`);
  process.stdout.write(`${capitVersion()}\n`);
} else {
  const {main} = await import(`./main.js`);
  process.exitCode = await main(argv);
}
