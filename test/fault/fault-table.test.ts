// The emulator's fault table: each kind, before and after the provider acts, through the JS API and the control API.
import {afterEach, describe, expect, it} from 'vitest';

import {startEmulator, DEFAULT_MANAGEMENT_KEY} from '../emulator/server.mjs';
import type {Emulator} from '../emulator/server.mjs';

const auth = {authorization: `Bearer ${DEFAULT_MANAGEMENT_KEY}`, 'content-type': `application/json`};
let emu: Emulator;
afterEach(async () => {
  await emu?.close();
});

async function create(name = `k`) {
  return fetch(`${emu.openrouterBaseUrl}/keys`, {method: `POST`, headers: auth, body: JSON.stringify({name, limit: 5})});
}

describe(`fault table`, () => {
  it(`reset before acting: no answer and no key; reset after acting: no answer but the key exists`, async () => {
    emu = await startEmulator();
    emu.faults.add([{method: `POST`, path: `/api/v1/keys`, kind: `reset`, when: `before`}, {method: `POST`, path: `/api/v1/keys`, kind: `reset`, when: `after`}]);
    await expect(create(`a`)).rejects.toThrow();
    expect(emu.state.keys.size).toBe(0);
    await expect(create(`b`)).rejects.toThrow();
    expect([...emu.state.keys.values()].map(k => k.name)).toEqual([`b`]);
    expect(emu.state.requests.map(r => r.fault?.when)).toEqual([`before`, `after`]);
    // Both rules were used once; the next create is answered normally.
    expect((await create(`c`)).status).toBe(201);
    expect(emu.faults.describe()).toEqual([]);
  });

  it(`junk after acting answers 200 with each junk body while the action happened`, async () => {
    emu = await startEmulator();
    const bodies: string[] = [];
    for (const junk of [`text`, `truncated`, `empty`, `shape`, `null`] as const) {
      emu.faults.add({method: `POST`, pathRegex: `^/api/v1/keys$`, kind: `junk`, when: `after`, junk});
      const res = await create(junk);
      expect(res.status).toBe(200);
      bodies.push(await res.text());
    }
    expect(emu.state.keys.size).toBe(5);
    expect(bodies[0]).toMatch(/^<html>/);
    expect(() => JSON.parse(bodies[1]!)).toThrow();
    expect(bodies[1]!.startsWith(`{"data":`)).toBe(true);
    expect(bodies[2]).toBe(``);
    expect(JSON.parse(bodies[3]!)).toEqual({ok: true, result: `done`});
    expect(bodies[4]).toBe(`null`);
  });

  it(`status faults carry Retry-After; count and -1 (every) bound how often a rule strikes`, async () => {
    emu = await startEmulator();
    emu.faults.add({method: `GET`, path: `/api/v1/keys`, kind: `status`, status: 429, retryAfter: 3, count: 2});
    const list = () => fetch(`${emu.openrouterBaseUrl}/keys`, {headers: auth});
    const first = await list();
    expect(first.status).toBe(429);
    expect(first.headers.get(`retry-after`)).toBe(`3`);
    expect((await list()).status).toBe(429);
    expect((await list()).status).toBe(200);
    emu.faults.add({method: `GET`, path: `/api/v1/keys`, kind: `status`, status: 502, count: -1});
    for (let i = 0; i < 3; i++) expect((await list()).status).toBe(502);
    emu.faults.clear();
    expect((await list()).status).toBe(200);
  });

  it(`a 500 after acting deletes the key and still answers 500`, async () => {
    emu = await startEmulator();
    const rec = emu.createKey({name: `x`, limit: 1});
    emu.faults.add({method: `DELETE`, pathRegex: `^/api/v1/keys/`, kind: `status`, when: `after`, status: 500});
    const res = await fetch(`${emu.openrouterBaseUrl}/keys/${rec.hash}`, {method: `DELETE`, headers: auth});
    expect(res.status).toBe(500);
    expect(emu.state.keys.has(rec.hash)).toBe(false);
  });

  it(`hang after acting with delayMs answers late; without it the socket closes after holdMs unanswered`, async () => {
    emu = await startEmulator();
    let hit = 0;
    emu.faults.add({method: `POST`, path: `/api/v1/keys`, kind: `hang`, when: `after`, delayMs: 150, onHit: () => hit++});
    const late = await create(`late`);
    expect(late.status).toBe(201);
    expect(hit).toBe(1);
    emu.faults.add({method: `POST`, path: `/api/v1/keys`, kind: `hang`, when: `before`, holdMs: 100});
    await expect(create(`never`)).rejects.toThrow();
    expect([...emu.state.keys.values()].map(k => k.name)).toEqual([`late`]);
  });

  it(`the control API adds, lists and clears rules; bad rules are refused; reset clears the table`, async () => {
    emu = await startEmulator();
    const post = (body: unknown) => fetch(`${emu.url}/__emulator/faults`, {method: `POST`, body: JSON.stringify(body)});
    expect((await post([{method: `POST`, pathRegex: `^/api/v1/keys$`, kind: `junk`, when: `after`, junk: `shape`}])).status).toBe(200);
    const listed = await (await fetch(`${emu.url}/__emulator/faults`)).json() as {faults: {kind: string; when: string; match: unknown}[]};
    expect(listed.faults).toMatchObject([{kind: `junk`, when: `after`, match: {method: `POST`, path: `^/api/v1/keys$`}}]);
    expect((await post({kind: `explode`})).status).toBe(400);
    expect((await post({kind: `junk`, when: `later`})).status).toBe(400);
    expect((await post({faults: [{kind: `reset`}], replace: true})).status).toBe(200);
    expect(emu.faults.describe()).toHaveLength(1);
    expect((await fetch(`${emu.url}/__emulator/faults`, {method: `DELETE`})).status).toBe(200);
    expect(emu.faults.describe()).toEqual([]);
    emu.faults.add({kind: `reset`});
    emu.reset();
    expect(emu.faults.describe()).toEqual([]);
  });
});
