// The physical floor of `capit keys list --json` over OpenRouter: node start, the paging round trips (first page,
// then 4 pages in flight at a time, as the plugin does) over one keep-alive connection pool, and JSON.parse of each page.
// Usage: node floor-keys.mjs <openrouter base url>
import http from 'node:http';

const [base] = process.argv.slice(2);
const agent = new http.Agent({keepAlive: true});
const PREFETCH = 4;

function page(offset) {
  return new Promise((resolve, reject) => {
    http.get(`${base}/keys?include_disabled=true&offset=${offset}`, {agent, headers: {authorization: `Bearer ${process.env.OPENROUTER_MANAGEMENT_KEY}`}}, res => {
      let text = ``;
      res.setEncoding(`utf8`);
      res.on(`data`, c => (text += c));
      res.on(`end`, () => resolve(JSON.parse(text).data));
    }).on(`error`, reject);
  });
}

const first = await page(0);
const size = first.length;
let total = first.length;
const pages = [Promise.resolve(first)];
for (let index = 0; ; index++) {
  const data = await pages[index];
  if (index > 0) total += data.length;
  if (data.length < size || size === 0) break;
  while (pages.length < index + 2 + PREFETCH) pages.push(page(pages.length * size));
}
await Promise.allSettled(pages);
agent.destroy();
if (total === 0) process.exit(1);
