// What core refuses in an agent's declared sources, and how it reads a base URL: its origin only.
import {describe, expect, it} from 'vitest';

import {byFlavour, findRedirect, findSelectorShadow, inspectSources, originOf, platformOrigins} from '../../src/issue/shadows.js';
import {keySourceProblems} from '../../src/plugins/key-sources.js';
import type {AgentEnvironment, KeySource} from '../../src/plugin.js';
import {sessionEnvProblems} from '../../src/testing/agent.js';

const file = (at: string[], extra: Partial<KeySource> = {}): KeySource => ({kind: `file`, path: `/home/ada/.a/config.json`, format: `json`, at, ...extra} as KeySource);

describe(`keySourceProblems`, () => {
  it(`accepts base-URL sources, redirectsWhenSet on them, flavours, and an installs base URL below a set one`, () => {
    expect(keySourceProblems([
      {kind: `env`, name: `A_CUSTOM_URL`, role: `baseUrl`, redirectsWhenSet: true},
      {kind: `env`, name: `A_BASE_URL`, role: `baseUrl`},
      file([`baseUrl`], {role: `baseUrl`, installs: true}),
      {kind: `env`, name: `A_API_KEY`, role: `key`},
      file([`key`], {installs: true, flavour: `A CLI`}),
      file([`ide`, `key`], {installs: true, flavour: `A extension`}),
    ])).toEqual([]);
  });

  it(`refuses redirectsWhenSet without role baseUrl, on a source capit writes, unknown roles, empty flavours`, () => {
    expect(keySourceProblems([{kind: `env`, name: `A_API_KEY`, redirectsWhenSet: true}])).toEqual([
      `env A_API_KEY has redirectsWhenSet but is not a base-URL source (add role: 'baseUrl', or drop redirectsWhenSet)`,
    ]);
    expect(keySourceProblems([file([`url`], {role: `baseUrl`, redirectsWhenSet: true, installs: true})])).toEqual([
      `/home/ada/.a/config.json (url) has redirectsWhenSet and installs: capit would write a value that sends requests away from the platform`,
    ]);
    expect(keySourceProblems([{kind: `env`, name: `X`, role: `url` as `key`}])).toEqual([`env X has role "url" (expected "key", "baseUrl" or "selector")`]);
    expect(keySourceProblems([{kind: `env`, name: `X`, flavour: ` `}])).toEqual([`env X has flavour " " (expected a non-empty name, or no flavour)`]);
  });

  it(`refuses selects without role selector, a selector without selects, truthy outside a key source`, () => {
    expect(keySourceProblems([{kind: `env`, name: `A_PROVIDER`, role: `selector`, selects: `capit`}, file([`provider`], {role: `selector`, selects: `capit`, installs: true}), {kind: `env`, name: `A_USE_CLOUD`, truthy: true}])).toEqual([]);
    expect(keySourceProblems([{kind: `env`, name: `A_PROVIDER`, role: `selector`}])).toEqual([`env A_PROVIDER is a selector without selects (the value that selects capit's entry)`]);
    expect(keySourceProblems([{kind: `env`, name: `A_KEY`, selects: `capit`}])).toEqual([`env A_KEY has selects but is not a selector source (add role: 'selector', or drop selects)`]);
    expect(keySourceProblems([file([`cloud`], {truthy: true})])).toEqual([]);
    expect(keySourceProblems([file([`base`], {truthy: true, role: `baseUrl`})])).toEqual([`/home/ada/.a/config.json (base) has truthy but is not a key source (a switch)`]);
  });

  it(`sessionEnvProblems applies the same checks to beatenBy`, () => {
    expect(sessionEnvProblems({env: {A_KEY: `sk-capit-conformance-placeholder-0123456789`}, beatenBy: [{kind: `env`, name: `A_KEY2`, redirectsWhenSet: true}]}, `linux`))
      .toEqual([`beatenBy: env A_KEY2 has redirectsWhenSet but is not a base-URL source (add role: 'baseUrl', or drop redirectsWhenSet)`]);
  });
});

describe(`reading base-URL sources`, () => {
  const envInfo = (env: Record<string, string>): AgentEnvironment => ({platform: `linux`, home: `/nonexistent-home`, cwd: `/nonexistent-home`, env});

  it(`keeps the origin only: userinfo, path and query dropped, default port and case normalised`, () => {
    expect(originOf(`https://user:secret@OpenRouter.AI:443/api/v1?key=x`)).toBe(`https://openrouter.ai`);
    expect(originOf(`http://localhost:4000/v1`)).toBe(`http://localhost:4000`);
    expect(originOf(`localhost-4000`)).toBeUndefined();
    // A fully qualified name (trailing dot) is the same host.
    expect(originOf(`https://openrouter.ai./api/v1`)).toBe(`https://openrouter.ai`);
    expect(originOf(42)).toBeUndefined();
    expect(platformOrigins({openai: `https://openrouter.ai/api/v1`, anthropic: `https://openrouter.ai/api`})).toEqual([`https://openrouter.ai`]);
  });

  it(`a set URL is present with its origin; a non-URL is unreadable, except where any value redirects`, async () => {
    const sources: KeySource[] = [
      {kind: `env`, name: `URL_A`, role: `baseUrl`},
      {kind: `env`, name: `URL_B`, role: `baseUrl`},
      {kind: `env`, name: `SWITCH`, role: `baseUrl`, redirectsWhenSet: true},
      {kind: `env`, name: `KEY`},
    ];
    const states = await inspectSources(sources, envInfo({URL_A: `https://u:p@example.test/v1`, URL_B: `nope`, SWITCH: `1`, KEY: `not-a-url`}));
    expect(states.map(s => [s.present, Boolean(s.unreadable), s.origin])).toEqual([
      [true, false, `https://example.test`], [false, true, undefined], [true, false, undefined], [true, false, undefined],
    ]);
    expect(JSON.stringify(states)).not.toMatch(/u:p|\/v1|nope/);
    // The first base URL set decides.
    expect(findRedirect(states, [`https://example.test`])).toBeNull();
    expect(findRedirect(states, [`https://openrouter.ai`])).toMatchObject({to: `https://example.test`, whenSet: false, state: {label: `environment variable URL_A`}});
    expect(findRedirect(states.slice(1), [`https://openrouter.ai`])).toMatchObject({to: null, state: {unreadable: true}});
    expect(findRedirect(states.slice(2), [`https://openrouter.ai`])).toMatchObject({to: null, whenSet: true});
  });

  it(`byFlavour gives each flavour its own sources plus the shared ones, in order`, () => {
    const s = (name: string, flavour?: string) => ({source: {kind: `env` as const, name, ...(flavour ? {flavour} : {})}});
    const groups = byFlavour([s(`SHARED`), s(`CLI`, `cli`), s(`IDE`, `ide`), s(`LAST`)]);
    expect(groups.map(g => [g.flavour, g.states.map(x => x.source.name)])).toEqual([[`cli`, [`SHARED`, `CLI`, `LAST`]], [`ide`, [`SHARED`, `IDE`, `LAST`]]]);
    expect(byFlavour([s(`A`), s(`B`)]).map(g => g.flavour)).toEqual([null]);
    // A single flavour (an IDE where only the extension reads the files) is judged without a flavour prefix.
    expect(byFlavour([s(`A`), s(`B`, `ide`)]).map(g => [g.flavour, g.states.length])).toEqual([[null, 2]]);
  });
});

describe(`selector chains`, () => {
  const sel = (name: string, selects: string, value: string | undefined, installs = false) => ({
    source: {kind: `env` as const, name, role: `selector` as const, selects, ...(installs ? {installs} : {})}, label: name,
    present: value !== undefined, ...(value !== undefined && value !== selects ? {selectsOther: true} : {}),
  });

  it(`judges each setting's layers on their own: the first set decides within a chain`, () => {
    // model.name (workspace, user) and selectedType (workspace, user), like Qwen Code.
    const fine = [sel(`WS_MODEL`, `capit-or`, undefined), sel(`USER_MODEL`, `capit-or`, `capit-or`, true), sel(`WS_TYPE`, `openai`, undefined), sel(`USER_TYPE`, `openai`, `openai`, true)];
    expect(findSelectorShadow(fine)).toBeNull();
    const typeSwitched = [fine[0]!, fine[1]!, fine[2]!, sel(`USER_TYPE`, `openai`, `qwen-oauth`, true)];
    expect(findSelectorShadow(typeSwitched)).toMatchObject({how: `other`, state: {label: `USER_TYPE`}});
    const workspaceWins = [sel(`WS_MODEL`, `capit-or`, `gpt-4o`), fine[1]!, fine[2]!, fine[3]!];
    expect(findSelectorShadow(workspaceWins)).toMatchObject({how: `other`, state: {label: `WS_MODEL`}});
    const gone = [fine[0]!, sel(`USER_MODEL`, `capit-or`, undefined, true), fine[2]!, fine[3]!];
    expect(findSelectorShadow(gone)).toMatchObject({how: `gone`, state: {label: `USER_MODEL`}});
  });

  it(`two settings that must hold the same value are two chains when they say so (setting)`, () => {
    const mode = (name: string, setting: string, value: string | undefined) => ({...sel(name, `openrouter`, value, true), source: {...sel(name, `openrouter`, value, true).source, setting}});
    // Cline's Act-mode and Plan-mode providers: one switched away is SHADOWED though the other still selects capit's.
    expect(findSelectorShadow([mode(`ACT`, `act`, `openrouter`), mode(`PLAN`, `plan`, `anthropic`)])).toMatchObject({how: `other`, state: {label: `PLAN`}});
    expect(findSelectorShadow([mode(`ACT`, `act`, `openrouter`), mode(`PLAN`, `plan`, `openrouter`)])).toBeNull();
    expect(keySourceProblems([{kind: `env`, name: `X`, setting: `x`}])).toEqual([`env X has setting but is not a selector source with a non-empty setting name`]);
  });
});
