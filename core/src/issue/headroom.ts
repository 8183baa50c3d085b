// Headroom preflight: is a cap (or what remains of it) enough for one worst-case request of the agent's model?
// OpenRouter pre-authorises a request's full `max_tokens` (the model's maximum output when the agent sends none) and
// refuses with 402 "can only afford N" while budget remains, which agents show as "out of credits"
// (research/spend-control.md, peers.md §5). capit cannot stop that refusal, so it warns before the key is issued.
// A lookup that fails never blocks anything: the worst it does is say nothing.
import type {CapitContext}   from '../context.js';
import {configReader}        from '../files/config-reader.js';
import type {AgentDefinition, AgentEnvironment, AgentModel, ConfigReader, ModelPrice, PlatformDefinition} from '../plugin.js';
import type {DiscoveredPlugin} from '../plugins/discover.js';
import {callPlugin, displayName, managementBaseUrl} from '../platforms/context.js';
import {formatUsd}           from './inputs.js';

/** What one preflight found; `warning` is set only when the budget is below one worst-case request. */
export interface HeadroomCheck {
  /** The model checked, or null when none is known (no `--model`, nothing in the agent's config). */
  model: string | null;
  /** Where the model came from: `--model`, or the file / variable the agent read it from. */
  modelSource: string | null;
  /** Output tokens of one worst-case request (the agent's limit, else the model's maximum), when known. */
  outputTokens: number | null;
  /** USD of that many output tokens at the model's completion price, when known. */
  worstCaseUsd: number | null;
  /** One line, without a `warning:` prefix. */
  warning: string | null;
  /** One line when the price could not be looked up for a model the user named with `--model`. */
  note: string | null;
}

export interface HeadroomWarningInput {
  /** The cap, or what remains of it. */
  budgetUsd: number;
  /** Whether `budgetUsd` is the whole cap or what remains of it (worded differently). */
  budgetKind: `cap` | `remaining`;
  model: string;
  price: ModelPrice;
  /** The agent's own output-token limit, when its config sets one; else the model's maximum is the worst case. */
  maxOutputTokens?: number;
  agentId?: string;
  /** How to limit the agent's output tokens, from {@link AgentModel.outputTokensSetting}. */
  outputTokensSetting?: string;
  /** For the wording: "OpenRouter refuses…". */
  platformName: string;
}

// Below this many affordable output tokens, an output limit is no real fix (a coding agent cannot work with it): only
// a larger cap is suggested.
const SMALLEST_USEFUL_OUTPUT = 1024;

/** Output tokens of one worst-case request: the agent's limit, else the model's maximum; null when neither is known. */
export function worstCaseTokens(price: ModelPrice, maxOutputTokens?: number): number | null {
  const tokens = maxOutputTokens ?? price.maxCompletionTokens;
  return tokens !== undefined && Number.isFinite(tokens) && tokens > 0 ? Math.floor(tokens) : null;
}

/**
 * The warning line when `budgetUsd` is below one worst-case request (completion price × output tokens), with the
 * smallest cap that covers it and, where it helps, the output-token limit the budget affords; else undefined. Pure:
 * `capit run` calls it with the session cap, `capit why` with what remains.
 */
export function headroomWarning(input: HeadroomWarningInput): string | undefined {
  const tokens = worstCaseTokens(input.price, input.maxOutputTokens);
  if (tokens === null || !(input.price.completionUsdPerToken > 0)) return undefined;
  const worstCase = tokens * input.price.completionUsdPerToken;
  // Wire prices are floats (8000 × 0.000015 is 0.12000000000000001): compare to a millionth of a cent.
  if (input.budgetUsd >= worstCase - 1e-8) return undefined;
  const perMillion = input.price.completionUsdPerToken * 1_000_000;
  const smallestCap = Math.ceil(worstCase * 100 - 1e-9) / 100;
  // Sub-cent precision only where rounding would hide why the smallest cap is a cent higher ($0.0328 → $0.04).
  const worstText = Math.abs(worstCase - smallestCap) < 1e-8 ? formatUsd(worstCase) : `$${worstCase.toFixed(4)}`;
  const affordable = Math.floor(input.budgetUsd / input.price.completionUsdPerToken + 1e-6);
  const budget = input.budgetKind === `cap` ? `a ${formatUsd(input.budgetUsd)} cap is` : `the ${formatUsd(input.budgetUsd)} that remains is`;
  const whose = input.maxOutputTokens !== undefined ? `${input.agentId ?? `the agent`}'s output limit` : `the model's maximum`;
  const fixCap = input.budgetKind === `cap` ? `use a cap of at least ${formatUsd(smallestCap)}` : `top up to at least ${formatUsd(smallestCap)}`;
  const fixOutput = affordable >= SMALLEST_USEFUL_OUTPUT && affordable < tokens
    ? `, or limit ${input.agentId ?? `the agent`}'s output to ${affordable.toLocaleString(`en-US`)} tokens${input.outputTokensSetting ? ` (${input.outputTokensSetting})` : ``}`
    : ``;
  return `${budget} below one worst-case request on ${input.model}: ${tokens.toLocaleString(`en-US`)} output tokens (${whose}) × ${formatUsd(perMillion)}/M = ${worstText}; ` +
    `${input.platformName} refuses requests it cannot afford in full ("can only afford"). ${fixCap[0]!.toUpperCase()}${fixCap.slice(1)}${fixOutput}`;
}


/** The agent's configured model for `platformId` (its optional `model` member), or undefined; a plugin failure reads as none. */
export async function agentModel(def: AgentDefinition, envInfo: AgentEnvironment, detected: unknown, platformId: string): Promise<AgentModel | undefined> {
  if (typeof def.model !== `function`) return undefined;
  try {
    const found = await callPlugin(def.id, `model`, () => def.model!(envInfo, detected, configReader(), platformId), {timeoutMs: 5_000, env: envInfo.env});
    return found && typeof found.model === `string` && found.model.trim() !== `` ? found : undefined;
  } catch {
    return undefined;
  }
}

// The price lookup is a nicety before an install: no retries and short timeouts, so a slow provider delays nothing much.
const LOOKUP_TIMEOUT_MS = 5_000;

/** The model's price from the platform (its optional `modelPrice`), without a master key; a failure says why. */
export async function lookupModelPrice(plugin: DiscoveredPlugin, def: PlatformDefinition, env: CapitContext[`env`], modelId: string): Promise<{price?: ModelPrice; failure?: string}> {
  if (typeof def.modelPrice !== `function`) return {failure: `${displayName(plugin)} does not list model prices`};
  const {createPlatformContext} = await import(`../platforms/platform-context.js`);
  const pctx = createPlatformContext(def, {
    masterKey: ``, baseUrl: managementBaseUrl(def, env), env, displayName: displayName(plugin),
    http: {retry: {maxRetries: 0}, timeouts: {connectMs: LOOKUP_TIMEOUT_MS, headersMs: LOOKUP_TIMEOUT_MS, bodyMs: LOOKUP_TIMEOUT_MS}},
  });
  try {
    const price = await callPlugin(def.id, `modelPrice`, () => def.modelPrice!(pctx, modelId), {timeoutMs: LOOKUP_TIMEOUT_MS * 2, env});
    return price ? {price} : {failure: `${displayName(plugin)} does not list ${modelId}`};
  } catch (error) {
    return {failure: (error instanceof Error ? error.message : String(error)).split(`\n`)[0]!};
  } finally {
    await pctx.http.close().catch(() => {});
  }
}

export interface HeadroomOptions {
  plugin: DiscoveredPlugin;
  def: PlatformDefinition;
  budgetUsd: number;
  budgetKind?: `cap` | `remaining`;
  /** `--model`: wins over the agent's config. */
  model?: string;
  /** The agent the key is for, to read its model and output limit. */
  agent?: {def: AgentDefinition; envInfo: AgentEnvironment; detected: unknown};
}

/**
 * The whole preflight: the model (`--model`, else the agent's config), its price, and the warning when the budget is
 * below one worst-case request. Never throws for a failed lookup: a model read from config whose price cannot be
 * found is silent; one the user named gets a note.
 */
export async function checkHeadroom(opts: HeadroomOptions, ctx: Pick<CapitContext, `env`>): Promise<HeadroomCheck> {
  const none: HeadroomCheck = {model: null, modelSource: null, outputTokens: null, worstCaseUsd: null, warning: null, note: null};
  const fromConfig = opts.agent ? await agentModel(opts.agent.def, opts.agent.envInfo, opts.agent.detected, opts.def.id) : undefined;
  // `--model openrouter/anthropic/claude-sonnet-4.5` (the form opencode writes) names the platform's model
  // `anthropic/claude-sonnet-4.5`; a two-part id such as `openrouter/auto` is the platform's own model and stays.
  const named = opts.model !== undefined && opts.model.startsWith(`${opts.def.id}/`) && opts.model.slice(opts.def.id.length + 1).includes(`/`)
    ? opts.model.slice(opts.def.id.length + 1) : opts.model;
  const model = named ?? fromConfig?.model;
  if (model === undefined) return none;
  // The agent's output limit is read for the model it configured: with another `--model`, that model's maximum applies.
  const agentInfo = fromConfig && (named === undefined || fromConfig.model === named) ? fromConfig : undefined;
  const found: HeadroomCheck = {...none, model, modelSource: named !== undefined ? `--model` : fromConfig?.source ?? null};
  const {price, failure} = await lookupModelPrice(opts.plugin, opts.def, ctx.env, model);
  if (!price) return {...found, note: named !== undefined ? `could not check headroom for ${model}: ${failure}` : null};
  const outputTokens = worstCaseTokens(price, agentInfo?.maxOutputTokens);
  const warning = headroomWarning({
    budgetUsd: opts.budgetUsd, budgetKind: opts.budgetKind ?? `cap`, model, price,
    maxOutputTokens: agentInfo?.maxOutputTokens, agentId: opts.agent?.def.id, outputTokensSetting: fromConfig?.outputTokensSetting,
    platformName: displayName(opts.plugin),
  });
  return {
    ...found, outputTokens,
    worstCaseUsd: outputTokens === null ? null : Math.round(outputTokens * price.completionUsdPerToken * 1e6) / 1e6,
    warning: warning ?? null,
  };
}
