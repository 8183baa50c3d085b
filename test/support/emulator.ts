import {afterAll, beforeAll, beforeEach} from 'vitest';

import {startEmulator}                   from '../emulator/server.mjs';
import type {Emulator, EmulatorOptions}  from '../emulator/server.mjs';

/**
 * One loopback emulator for the whole test file, reset before each test. Returns a stand-in that forwards to it, so
 * tests can write `emulator.state.keys` at the top level of the file.
 */
export function emulatorPerFile(options: EmulatorOptions = {port: 0}): Emulator {
  let current: Emulator | undefined;
  beforeAll(async () => {
    current = await startEmulator(options);
  });
  afterAll(async () => {
    await current?.close();
  });
  beforeEach(() => {
    current!.reset();
  });
  const started = (): Emulator => {
    if (!current) throw new Error(`the emulator is used before beforeAll started it`);
    return current;
  };
  return new Proxy({} as Emulator, {
    get: (_, prop) => {
      const value = Reflect.get(started(), prop) as unknown;
      return typeof value === `function` ? (value as (...args: unknown[]) => unknown).bind(started()) : value;
    },
    set: (_, prop, value) => Reflect.set(started(), prop, value),
  });
}
