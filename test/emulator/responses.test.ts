// POST /api/v1/responses: OpenRouter's OpenAI Responses API (the only wire API current Codex releases speak).
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {DEFAULT_MANAGEMENT_KEY, startEmulator, type Emulator} from './server.mjs';

let emu: Emulator;
beforeEach(async () => {
  emu = await startEmulator({port: 0});
});
afterEach(async () => {
  await emu.close();
});

async function post(path: string, key: string | null, body: unknown): Promise<{status: number; text: string; json: any; type: string | null}> {
  const headers: Record<string, string> = {'content-type': `application/json`};
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${emu.url}${path}`, {method: `POST`, headers, body: JSON.stringify(body)});
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return {status: res.status, text, json, type: res.headers.get(`content-type`)};
}

async function createKey(limit: number): Promise<{hash: string; key: string}> {
  const res = await post(`/api/v1/keys`, DEFAULT_MANAGEMENT_KEY, {name: `codex`, limit});
  expect(res.status).toBe(201);
  return {hash: res.json.data.hash, key: res.json.key};
}

const ask = (key: string | null, extra: Record<string, unknown> = {}) =>
  post(`/api/v1/responses`, key, {model: `openai/gpt-4o-mini`, instructions: `be brief`, input: [{role: `user`, content: [{type: `input_text`, text: `hi`}]}], ...extra});

function events(text: string): {event: string; data: any}[] {
  return text.split(/\n\n/).filter(b => b.trim() !== ``).map(block => {
    const event = /^event: (.*)$/m.exec(block)?.[1] ?? ``;
    const data = /^data: (.*)$/m.exec(block)?.[1] ?? `null`;
    return {event, data: JSON.parse(data)};
  });
}

describe(`POST /api/v1/responses`, () => {
  it(`answers a non-streaming request with a completed response holding the reply and usage, and charges the key`, async () => {
    const {hash, key} = await createKey(5);
    const res = await ask(key);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      object: `response`, status: `completed`, model: `openai/gpt-4o-mini`,
      output: [{type: `message`, role: `assistant`, content: [{type: `output_text`, text: `Hello from the capit emulator`}]}],
      usage: {cost: 0.5},
    });
    expect(res.json.usage.total_tokens).toBe(res.json.usage.input_tokens + res.json.usage.output_tokens);
    expect(emu.state.keys.get(hash)!.usage).toBe(0.5);
    const log = emu.state.requests.filter(r => r.path === `/api/v1/responses`);
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({status: 200, authorization: `Bearer ${key}`, keyHash: hash, model: `openai/gpt-4o-mini`});
  });

  it(`streams the Responses events in order: created, text deltas that add up to the reply, completed with usage`, async () => {
    const {hash, key} = await createKey(5);
    const res = await ask(key, {stream: true});
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/text\/event-stream/);
    const evs = events(res.text);
    for (const e of evs) expect(e.data.type).toBe(e.event);
    expect(evs.map(e => e.data.sequence_number)).toEqual(evs.map((_, i) => i));
    const names = evs.map(e => e.event);
    expect(names[0]).toBe(`response.created`);
    expect(names[names.length - 1]).toBe(`response.completed`);
    expect(names).toContain(`response.output_item.done`);
    const deltas = evs.filter(e => e.event === `response.output_text.delta`);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map(e => e.data.delta).join(``)).toBe(`Hello from the capit emulator`);
    const done = evs[evs.length - 1]!.data.response;
    expect(done).toMatchObject({status: `completed`, usage: {cost: 0.5}, output: [{type: `message`, content: [{text: `Hello from the capit emulator`}]}]});
    expect(evs[0]!.data.response.id).toBe(done.id);
    expect(emu.state.keys.get(hash)!.usage).toBe(0.5);
  });

  it(`refuses over the cap exactly like chat/completions, and charges nothing then`, async () => {
    const {hash, key} = await createKey(1);
    expect((await ask(key)).status).toBe(200);
    expect((await ask(key, {stream: true})).status).toBe(200);
    const refused = await ask(key);
    expect(refused.status).toBe(403);
    expect(refused.json).toEqual({error: {code: 403, message: `Key limit exceeded (total limit). Manage it using https://openrouter.ai/settings/keys`}});
    const chat = await post(`/api/v1/chat/completions`, key, {model: `m`, messages: []});
    expect(chat.json).toEqual(refused.json);
    expect(emu.state.keys.get(hash)!.usage).toBe(1);
  });

  it(`refuses a missing or unknown key with 401, a management key with 403, and a max_output_tokens the key cannot afford with 402`, async () => {
    expect((await ask(null)).status).toBe(401);
    expect((await ask(`sk-or-v1-fake-${`0`.repeat(60)}`)).json).toEqual({error: {code: 401, message: `User not found.`}});
    expect((await ask(DEFAULT_MANAGEMENT_KEY)).status).toBe(403);
    emu.setAccount({outputTokenPriceUsd: 0.001});
    const {hash, key} = await createKey(1);
    const tooMany = await ask(key, {max_output_tokens: 5000});
    expect(tooMany.status).toBe(402);
    expect(tooMany.json.error.message).toMatch(/You requested up to 5000 tokens, but can only afford 1000/);
    expect(emu.state.keys.get(hash)!.usage).toBe(0);
  });
});

describe(`POST /v1/responses (AIHubMix)`, () => {
  it(`answers with the token, charges its quota, streams the same events, and refuses an exhausted token`, async () => {
    // 0.5 USD per request = 250000 quota: two requests fit in 500000.
    const token = emu.createAihubmixToken({name: `codex`, remain_quota: 500_000});
    const secret = `sk-${token.key}`;
    const first = await post(`/v1/responses`, secret, {model: `gpt-4o-mini`, input: `hi`});
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({object: `response`, status: `completed`, output: [{content: [{text: `Hello from the capit emulator`}]}]});
    const streamed = await post(`/v1/responses`, secret, {model: `gpt-4o-mini`, input: `hi`, stream: true});
    expect(events(streamed.text).map(e => e.event).at(-1)).toBe(`response.completed`);
    expect(emu.state.aihubmixTokens.get(token.id)!.remain_quota).toBe(0);
    const refused = await post(`/v1/responses`, secret, {model: `gpt-4o-mini`, input: `hi`});
    expect(refused.status).toBe(401);
    expect(refused.json.error.message).toMatch(/^该令牌额度已用尽/);
    expect(emu.state.requests.filter(r => r.path === `/v1/responses`).map(r => r.status)).toEqual([200, 200, 401]);
  });
});
