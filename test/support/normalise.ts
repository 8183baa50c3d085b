// Makes CLI output stable enough for inline snapshots: the parts that change from run to run (temp folders, loopback
// ports, random key-name suffixes, backup timestamps) are replaced by named placeholders; everything else is kept.

export interface NormaliseOptions {
  /** Temp folders to show as a placeholder, e.g. `{'<root>': root}`; longer paths are replaced first. */
  paths?: Record<string, string>;
}

export function normalise(text: string, options: NormaliseOptions = {}): string {
  let out = text;
  const paths = Object.entries(options.paths ?? {}).sort(([, a], [, b]) => b.length - a.length);
  for (const [placeholder, dir] of paths) out = out.split(dir).join(placeholder);
  return out
    // A loopback emulator listens on a random port.
    .replace(/\b(127\.0\.0\.1|localhost):\d+/g, `$1:<port>`)
    // Key names are `<prefix>-<8 hex>` with a random suffix.
    .replace(/\b([a-z][a-z0-9-]*)-[0-9a-f]{8}\b/g, `$1-<hex>`)
    // Backup folders and ledger times carry the moment they were made.
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}[-:]\d{2}[-:]\d{2}(?:[.-]\d{3})?Z?/g, `<time>`);
}
