// The physical floor of `capit openrouter 5 --agent opencode --yes`: node start, one loopback POST to create the key
// (JSON in, JSON out), and the same durable writes (temp file, fsync, rename, fsync of the folder) the install makes.
// Usage: node floor-install.mjs <openrouter base url> <dir> <number of durable writes>
import fs   from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const [base, dir, writes] = process.argv.slice(2);
const body = JSON.stringify({name: `opencode-floor`, limit: 5, limit_reset: null, include_byok_in_limit: true});
const created = await new Promise((resolve, reject) => {
  const req = http.request(`${base}/keys`, {method: `POST`, headers: {
    authorization: `Bearer ${process.env.OPENROUTER_MANAGEMENT_KEY}`, 'content-type': `application/json`, 'content-length': Buffer.byteLength(body),
  }}, res => {
    let text = ``;
    res.setEncoding(`utf8`);
    res.on(`data`, c => (text += c));
    res.on(`end`, () => resolve(JSON.parse(text)));
  });
  req.on(`error`, reject);
  req.end(body);
});
fs.mkdirSync(dir, {recursive: true});
const content = JSON.stringify({provider: {openrouter: {options: {apiKey: created.key ?? `x`}}}}, null, 2);
for (let i = 0; i < Number(writes); i++) {
  const file = path.join(dir, `file-${i}.json`);
  const temp = `${file}.tmp`;
  const fd = fs.openSync(temp, `w`, 0o600);
  fs.writeSync(fd, content);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(temp, file);
  const dirFd = fs.openSync(dir, `r`);
  fs.fsyncSync(dirFd);
  fs.closeSync(dirFd);
}
