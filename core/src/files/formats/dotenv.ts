// dotenv editor (hand-written: no library keeps every untouched line byte for byte and reads what the loaders read).
import {isDeepStrictEqual} from 'node:util';

import {conflict, formatPath, splitBom, type EditableDocument} from './common.js';
import {UnparseableFileError} from '../../errors.js';
import type {JsonPath} from '../../plugin.js';

interface EnvEntry {
  kind: `blank` | `comment` | `assign`;
  /** For assignments: everything before the value (`export KEY=`). */
  head: string;
  /** The value as written (quotes included). */
  raw: string;
  /** After the value: spaces and an inline comment. For blank/comment lines: the whole line. */
  tail: string;
  eol: string;
  key?: string;
  value?: string;
}

const ENV_ASSIGN = /^([ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*)/;
const ENV_SET_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const ENV_SAFE = /^[A-Za-z0-9_.:/+@-]*$/;

export function encodeDotenvValue(value: string): string {
  if (ENV_SAFE.test(value)) return value;
  return `"${value.replace(/\\/g, `\\\\`).replace(/"/g, `\\"`).replace(/\$/g, `\\$`).replace(/\n/g, `\\n`).replace(/\r/g, `\\r`)}"`;
}

export function decodeDotenvValue(raw: string): string {
  const q = raw[0];
  if (raw.length >= 2 && (q === `'` || q === `\``) && raw.endsWith(q)) return raw.slice(1, -1);
  if (raw.length >= 2 && q === `"` && raw.endsWith(`"`)) {
    const map: Record<string, string> = {n: `\n`, r: `\r`, t: `\t`};
    return raw.slice(1, -1).replace(/\\([\s\S])/g, (_, c: string) => map[c] ?? c);
  }
  return raw;
}

function parseDotenv(body: string, filePath: string): EnvEntry[] {
  const entries: EnvEntry[] = [];
  let pos = 0;
  let lineNo = 0;
  const nextLine = (): {content: string; eol: string} => {
    const nl = body.indexOf(`\n`, pos);
    let line = nl === -1 ? body.slice(pos) : body.slice(pos, nl);
    let eol = nl === -1 ? `` : `\n`;
    if (eol && line.endsWith(`\r`)) {
      line = line.slice(0, -1);
      eol = `\r\n`;
    }
    pos = nl === -1 ? body.length : nl + 1;
    lineNo++;
    return {content: line, eol};
  };
  while (pos < body.length) {
    const startLine = lineNo + 1;
    const {content, eol} = nextLine();
    if (/^[ \t]*$/.test(content)) {
      entries.push({kind: `blank`, head: ``, raw: ``, tail: content, eol});
      continue;
    }
    if (/^[ \t]*#/.test(content)) {
      entries.push({kind: `comment`, head: ``, raw: ``, tail: content, eol});
      continue;
    }
    const m = ENV_ASSIGN.exec(content);
    if (!m) throw new UnparseableFileError(filePath, `line ${startLine} is not KEY=value, a comment or blank`);
    const head = m[1]!;
    const key = m[2]!;
    let rest = content.slice(head.length);
    let lineEol = eol;
    const q = rest[0];
    if (q === `"` || q === `'` || q === `\``) {
      // A quoted value may span lines; find the closing quote (double quotes honour backslash escapes).
      let i = 1;
      for (;;) {
        while (i < rest.length && rest[i] !== q) i += q === `"` && rest[i] === `\\` ? 2 : 1;
        if (i < rest.length) break;
        if (pos >= body.length) throw new UnparseableFileError(filePath, `unterminated quoted value starting on line ${startLine}`);
        const more = nextLine();
        rest += lineEol + more.content;
        lineEol = more.eol;
      }
      const raw = rest.slice(0, i + 1);
      const tail = rest.slice(i + 1);
      if (!/^[ \t]*(#.*)?$/.test(tail)) throw new UnparseableFileError(filePath, `unexpected text after the quoted value on line ${lineNo}`);
      entries.push({kind: `assign`, head, raw, tail, eol: lineEol, key, value: decodeDotenvValue(raw)});
      continue;
    }
    // Unquoted: an inline comment starts at a `#` preceded by whitespace.
    let cut = rest.length;
    for (let i = 0; i < rest.length; i++) {
      if (rest[i] === `#` && (i === 0 || rest[i - 1] === ` ` || rest[i - 1] === `\t`)) {
        cut = i;
        break;
      }
    }
    const raw = rest.slice(0, cut).replace(/[ \t]+$/, ``);
    entries.push({kind: `assign`, head, raw, tail: rest.slice(raw.length), eol: lineEol, key, value: raw});
  }
  return entries;
}

export class DotenvDocument implements EditableDocument {
  readonly format = `dotenv` as const;
  private readonly original: string;
  private readonly bom: string;
  private readonly eol: string;
  private entries: EnvEntry[];
  private dirty = false;

  constructor(text: string, private readonly filePath: string) {
    this.original = text;
    const {bom, body} = splitBom(text);
    this.bom = bom;
    this.eol = body.includes(`\r\n`) ? `\r\n` : `\n`;
    this.entries = parseDotenv(body, filePath);
    this.originalValue = this.read([]);
  }

  private readonly originalValue: unknown;

  private key(path: JsonPath): string {
    if (path.length !== 1 || typeof path[0] !== `string`) throw new Error(`${this.filePath}: a .env path is one variable name, got ${formatPath(path)}`);
    return path[0];
  }

  // A variable assigned twice is read and written at its LAST assignment: python-dotenv (hermes), the dotenv package
  // and a shell that sources the file all keep the last one, so that is the copy the agent uses. Earlier copies are
  // left byte for byte (restore puts the file back exactly either way). Decision recorded in README.

  read(path: JsonPath): unknown {
    if (path.length === 0) {
      const all: Record<string, string> = {};
      for (const e of this.entries) if (e.kind === `assign`) all[e.key!] = e.value!;
      return all;
    }
    if (path.length !== 1) return undefined;
    const key = path[0];
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i]!.key === key) return this.entries[i]!.value;
    return undefined;
  }

  set(path: JsonPath, value: unknown): void {
    if (value === undefined) return this.delete(path);
    const key = this.key(path);
    if (!ENV_SET_KEY.test(key)) throw new Error(`${this.filePath}: ${JSON.stringify(key)} is not a valid variable name`);
    if (typeof value !== `string` && typeof value !== `number` && typeof value !== `boolean`)
      throw conflict(this.filePath, path, `a .env value must be a string, got ${value === null ? `null` : typeof value}`);
    const str = String(value);
    const raw = encodeDotenvValue(str);
    let idx = -1;
    for (let i = this.entries.length - 1; i >= 0 && idx === -1; i--) if (this.entries[i]!.key === key) idx = i;
    if (idx !== -1) {
      const e = this.entries[idx]!;
      if (e.value === str) return; // already there: keep the user's quoting
      // `KEY= # note` has its comment right after the value: keep a space so it stays a comment.
      const tail = raw !== `` && e.tail.startsWith(`#`) ? ` ${e.tail}` : e.tail;
      this.entries[idx] = {...e, raw, tail, value: str};
    } else {
      const last = this.entries[this.entries.length - 1];
      const entry: EnvEntry = {kind: `assign`, head: `${key}=`, raw, tail: ``, eol: this.eol, key, value: str};
      if (last && last.eol === ``) {
        // The file does not end with a newline: keep it that way (so removing the line gives the same bytes back).
        last.eol = this.eol;
        entry.eol = ``;
      }
      this.entries.push(entry);
    }
    this.dirty = true;
  }

  rawAt(path: JsonPath): string | undefined {
    const key = this.key(path);
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i]!.key === key) return this.entries[i]!.raw;
    return undefined;
  }

  /** Sets a variable to a value given as written in another version of this file (quotes kept). */
  setRaw(path: JsonPath, raw: string): void {
    this.set(path, decodeDotenvValue(raw));
    const key = this.key(path);
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.key !== key) continue;
      if (e.raw !== raw) {
        e.raw = raw;
        this.dirty = true;
      }
      return;
    }
  }

  delete(path: JsonPath): void {
    const key = this.key(path);
    if (!this.entries.some(e => e.key === key)) return;
    const lastEol = this.entries[this.entries.length - 1]!.eol;
    this.entries = this.entries.filter(e => e.key !== key);
    const last = this.entries[this.entries.length - 1];
    if (last && lastEol === ``) last.eol = ``;
    this.dirty = true;
  }

  text(): string {
    if (!this.dirty || isDeepStrictEqual(this.read([]), this.originalValue)) return this.original;
    return this.bom + this.entries.map(e => e.head + e.raw + e.tail + e.eol).join(``);
  }
}
