import {PluginError} from '../errors.js';

/** A one-line reason a plugin could not be used, prefixed `[plugin:<id>]` like every plugin failure. */
export function describePluginError(id: string, error: unknown): string {
  if (error instanceof PluginError) return error.message;
  return `[plugin:${id}] ${error instanceof Error ? error.message : String(error)}`;
}
