/** "an" before a vowel sound as written ("an OpenRouter key", "an AIHubMix key"), else "a". */
export function article(word: string): string {
  return /^[aeiou]/i.test(word) ? `an` : `a`;
}

/** The word with its article: `an OpenRouter`, `a Zeta`. */
export function withArticle(word: string): string {
  return `${article(word)} ${word}`;
}
