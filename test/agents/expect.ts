// The steps every real-agent test repeats, each with its assertions: install with the CLI, run the agent, check where
// its requests went and with which key, ask doctor. Expected paths, keys and texts are parameters, so each test still
// says exactly what it expects.
import {expect} from 'vitest';

import type {Emulator, RequestLogEntry} from '../emulator/server.mjs';
import {runCli}                 from '../support/cli.js';
import {inferenceRequests, issuedKey, type Run} from './support.js';

/** `capit <args>` exits 0 and warns about nothing; returns the one key the emulator issued. */
export async function installWithoutWarning(emulator: Emulator, args: string[], opts: {env: Record<string, string>; cwd?: string}) {
  const installed = await runCli(args, opts);
  expect(installed.exitCode, installed.stderr).toBe(0);
  expect(installed.stderr).not.toMatch(/warning/i);
  return issuedKey(emulator);
}

/** The agent's run exited 0 and printed the emulator's reply. */
export function expectEmulatorHello(result: Run) {
  expect(result.exitCode, result.stderr).toBe(0);
  expect(result.stdout).toContain(`Hello from the capit emulator`);
}

export interface ExpectedInference {
  /** Every request's path (not checked when left out). */
  path?: string;
  /** Every request's exact Authorization header, e.g. `Bearer ${key.key}`. */
  authorization: string;
  /** Every request's model (not checked when left out). */
  model?: string;
  /** Every request's x-api-key header (`null`: none); not checked when the field is absent. */
  xApiKey?: string | null;
}

/** `emulator` saw at least one inference request, and every one matches `expected`; returns them. */
export function expectEveryInference(emulator: Emulator, expected: ExpectedInference): RequestLogEntry[] {
  const calls = inferenceRequests(emulator);
  expect(calls.length).toBeGreaterThan(0);
  for (const call of calls) {
    if (expected.path !== undefined) expect(call.path).toBe(expected.path);
    expect(call.authorization).toBe(expected.authorization);
    if (expected.model !== undefined) expect(call.model).toBe(expected.model);
    if (`xApiKey` in expected) expect(call.xApiKey).toBe(expected.xApiKey);
  }
  return calls;
}

/** `capit doctor <agent>` exits 0 and its report contains `says` (e.g. `uses capit key <name> … from <file>`). */
export async function expectDoctorSays(agent: string, says: string, opts: {env: Record<string, string>; cwd?: string}) {
  const doctor = await runCli([`doctor`, agent], opts);
  expect(doctor.exitCode, doctor.stdout + doctor.stderr).toBe(0);
  expect(doctor.stdout).toContain(says);
  return doctor;
}

/** `capit <args>` (an AIHubMix install) exits 0 and the emulator issued exactly one AIHubMix token; returns it. */
export async function installAihubmixToken(emulator: Emulator, args: string[], opts: {env: Record<string, string>; cwd?: string}) {
  const installed = await runCli(args, opts);
  expect(installed.exitCode, installed.stderr).toBe(0);
  const tokens = [...emulator.state.aihubmixTokens.values()];
  expect(tokens).toHaveLength(1);
  return tokens[0]!;
}

/**
 * A `capit run` session: `emulator` saw at least one inference request, every one with the session key capit created
 * for it (the key of the one POST /api/v1/keys), none with the key installed before (`installedKey`).
 */
export function expectEveryInferenceWithSessionKey(emulator: Emulator, installedKey: string) {
  const created = emulator.state.requests.find(r => r.method === `POST` && r.path === `/api/v1/keys`);
  const calls = inferenceRequests(emulator);
  expect(calls.length).toBeGreaterThan(0);
  for (const call of calls) {
    expect(call.authorization).not.toBe(`Bearer ${installedKey}`);
    expect(call.keyHash).toBe(created!.keyHash);
  }
}

/**
 * `emulator` saw at least one inference request, every one at `path` with the AIHubMix token `tokenKey` as Bearer,
 * with or without its `sk-` prefix (agents differ in which form they send).
 */
export function expectEveryInferenceWithAihubmixToken(emulator: Emulator, path: string, tokenKey: string) {
  const calls = inferenceRequests(emulator);
  expect(calls.length).toBeGreaterThan(0);
  for (const call of calls) {
    expect(call.path).toBe(path);
    expect(call.authorization?.replace(/^Bearer (sk-)?/, ``)).toBe(tokenKey);
  }
}
