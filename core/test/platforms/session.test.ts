import {PassThrough}                  from 'node:stream';
import {describe, expect, it}         from 'vitest';
import type {CapitContext}            from '../../src/context.js';
import {CapitError}                   from '../../src/errors.js';
import {updateCredentials}            from '../../src/platforms/credentials.js';
import {openPlatformSession}      from '../../src/platforms/session.js';
import type {DiscoveredPlugin}        from '../../src/plugins/discover.js';
import {capitPaths}                   from '../../src/state/paths.js';
import openrouter                     from '../../../plugins/platform-openrouter/src/index.js';
import {sandboxEnv, tempDir}          from '../../../test/support/tmp.js';

const FROM_ENV = `sk-or-v1-env-fake-${`a`.repeat(32)}`;
const STORED = `sk-or-v1-stored-fake-${`b`.repeat(32)}`;
const plugin = {manifest: {kind: `platform`, id: `openrouter`, displayName: `OpenRouter`}} as unknown as DiscoveredPlugin;

function context(extra: Record<string, string> = {}): CapitContext {
  const env = sandboxEnv(tempDir(), extra);
  return {env, cwd: env.HOME!, interactive: false, stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), plugins: {platforms: [plugin], agents: []}} as unknown as CapitContext;
}

async function store(ctx: CapitContext, key: string) {
  await updateCredentials(capitPaths(ctx.env).config, platforms => ({...platforms, openrouter: {key, addedAt: new Date(0).toISOString()}}));
}

describe(`openPlatformSession`, () => {
  it(`takes the env var before the stored key, and builds the platform context around it`, async () => {
    const ctx = context({OPENROUTER_MANAGEMENT_KEY: FROM_ENV, CAPIT_OPENROUTER_BASE_URL: `http://127.0.0.1:9/api/v1/`});
    await store(ctx, STORED);
    const session = await openPlatformSession(plugin, ctx, openrouter);
    expect(session.masterKeySource).toBe(`env`);
    expect(session.pctx.masterKey).toBe(FROM_ENV);
    expect(session.pctx.baseUrl).toBe(`http://127.0.0.1:9/api/v1`);
    expect(typeof session.pctx.paginate).toBe(`function`);
  });

  it(`uses the stored key when no env var is set`, async () => {
    const ctx = context();
    await store(ctx, STORED);
    const session = await openPlatformSession(plugin, ctx, openrouter);
    expect(session).toMatchObject({masterKeySource: `stored`, pctx: {masterKey: STORED, baseUrl: `https://openrouter.ai/api/v1`}});
  });

  it(`without a key and without a terminal, fails naming the env var and the setup URL (exit 2)`, async () => {
    const error = await openPlatformSession(plugin, context(), openrouter).catch(e => e as CapitError);
    expect(error).toBeInstanceOf(CapitError);
    expect(error).toMatchObject({code: `CAPIT_NO_MASTER_KEY`, exitCode: 2});
    expect(error.message).toContain(`OPENROUTER_MANAGEMENT_KEY`);
    expect(error.message).toContain(`https://openrouter.ai/settings/management-keys`);
  });
});
