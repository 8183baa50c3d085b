// Preloaded (NODE_OPTIONS=--import) into the Node-based agents of the real-agent tests: every TCP connection to a
// host other than loopback is refused before it leaves the machine, and its host is appended to
// $CAPIT_TEST_BLOCKED_LOG, so an agent that phones home (update checks, telemetry) cannot reach the internet.
import fs  from 'node:fs';
import net from 'node:net';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/;
const connect = net.Socket.prototype.connect;

net.Socket.prototype.connect = function (...args) {
  // net.connect passes [options, callback] as one normalised array; direct calls pass (options) or (port, host).
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const opts = typeof first === `object` && first !== null ? first : {port: first, host: args[1]};
  const host = String(opts.host ?? `localhost`).replace(/^\[|\]$/g, ``);
  if (!opts.path && !LOOPBACK.test(host)) {
    if (process.env.CAPIT_TEST_BLOCKED_LOG) fs.appendFileSync(process.env.CAPIT_TEST_BLOCKED_LOG, `${host}\n`);
    process.nextTick(() => this.destroy(Object.assign(new Error(`blocked by the test: ${host} is not loopback`), {code: `ECONNREFUSED`})));
    return this;
  }
  return connect.apply(this, args);
};
