// "Did you mean …?" for every word a user can mistype: platforms, agents, commands and options.

/**
 * Edit distance where swapping two neighbouring letters costs 1 (optimal string alignment, a restricted
 * Damerau–Levenshtein). Plain Levenshtein counts `opnerouter` → `openrouter` as 2, yet a swap is the most common typo.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({length: rows}, (_, i) => Array.from({length: cols}, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate nearest to `word`, if it is close enough to be what was meant: at most one edit for short words and
 * about one edit per three letters beyond that (so `ad` → `add`, `opnecode` → `opencode`, but not `foo` → `codex`).
 * Ties keep the candidates' order.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const typed = word.toLowerCase();
  const budget = Math.max(1, Math.floor(typed.replace(/^-+/, ``).length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(typed, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= budget ? best : undefined;
}

/** `; did you mean "openrouter"?` when a candidate is close, else an empty string: to append to an error message. */
export function didYouMean(word: string, candidates: Iterable<string>, quote: (s: string) => string = s => `"${s}"`): string {
  const near = closest(word, candidates);
  return near === undefined ? `` : `; did you mean ${quote(near)}?`;
}

const PLUGIN_ID = /^[a-z][a-z0-9-]{1,31}$/;

/**
 * The one-line message for a platform that is not installed: "did you mean" when one is close; otherwise the installed
 * ones and, with `suggestPlugin`, the package that would add it (never for a typo: that would invite installing a
 * package named after it).
 */
export function unknownPlatform(word: string, installed: readonly string[], opts: {suggestPlugin?: boolean} = {}): string {
  const near = closest(word, installed);
  if (near !== undefined) return `Unknown platform "${word}"; did you mean "${near}"?`;
  const hint = opts.suggestPlugin && PLUGIN_ID.test(word) ? `; try \`capit plugin add capit-platform-${word}\`` : ``;
  return `Unknown platform "${word}", installed: ${installed.join(`, `) || `none`}${hint}`;
}

/** The one-line message for an agent that is not installed: "did you mean" when one is close, else the installed ones. */
export function unknownAgent(word: string, installed: readonly string[]): string {
  const near = closest(word, installed);
  if (near !== undefined) return `Unknown agent "${word}"; did you mean "${near}"?`;
  return `Unknown agent "${word}"; installed agents: ${installed.join(`, `) || `none`}`;
}
