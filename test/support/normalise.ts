// Makes CLI output stable enough for inline snapshots: the parts that change from run to run (temp folders, loopback
// ports, random key-name suffixes, dates, backup folder names) and any printed secret are replaced by named
// placeholders; everything else is kept byte for byte.

export interface NormaliseOptions {
  /** Literal text to show as a placeholder, e.g. `{'<home>': env.HOME}`; longer texts are replaced first. */
  literals?: Record<string, string>;
}

export function normalise(text: string, options: NormaliseOptions = {}): string {
  let out = text;
  const literals = Object.entries(options.literals ?? {}).sort(([, a], [, b]) => b.length - a.length);
  for (const [placeholder, literal] of literals) out = out.split(literal).join(placeholder);
  return out
    // A key printed once must never land in a snapshot (the fakes look like real ones).
    .replace(/\bsk-[A-Za-z0-9-]{20,}/g, `<secret>`)
    // A loopback emulator listens on a random port.
    .replace(/\b(127\.0\.0\.1|localhost):\d+/g, `$1:<port>`)
    // Key names are `<prefix>-<8 hex>` with a random suffix; eight X's keep tables aligned.
    .replace(/\b([a-z][a-z0-9-]*)-[0-9a-f]{8}\b/g, `$1-XXXXXXXX`)
    // Backup folders are named after the moment they were made (`2026-11-30T00-27-49Z-2`); ledger times too.
    .replace(/\b\d{4}-\d{2}-\d{2}T\d{2}[-:]\d{2}[-:]\d{2}(?:\.\d{3})?Z(?:-\d+)?/g, `<time>`)
    .replace(/\b\d{4}-\d{2}-\d{2}\b/g, `<date>`);
}
