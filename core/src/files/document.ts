// Format-preserving editors for the files agents read their keys from (one file per format under formats/).
// Every editor refuses input it cannot parse (UnparseableFileError) and returns the original text unchanged until
// something is actually edited, so an untouched file is never rewritten with different bytes.
import {isDeepStrictEqual} from 'node:util';

import type {EditableDocument} from './formats/common.js';
import {DotenvDocument} from './formats/dotenv.js';
import {JsonDocument} from './formats/json.js';
import {Json5Document} from './formats/json5.js';
import {TomlDoc} from './formats/toml.js';
import {YamlDoc} from './formats/yaml.js';
import type {FileFormat, JsonPath} from '../plugin.js';

export {formatPath, MAX_NESTING_DEPTH, type EditableDocument} from './formats/common.js';
export {decodeDotenvValue, encodeDotenvValue} from './formats/dotenv.js';

export function openDocument(format: FileFormat, text: string, filePath: string): EditableDocument {
  switch (format) {
    case `json`:
    case `jsonc`:
      return new JsonDocument(format, text, filePath);
    case `dotenv`:
      return new DotenvDocument(text, filePath);
    case `yaml`:
      return new YamlDoc(text, filePath);
    case `toml`:
      return new TomlDoc(text, filePath);
    case `json5`:
      return new Json5Document(text, filePath);
    default:
      throw new Error(`Unknown file format ${JSON.stringify(format)}`);
  }
}

/**
 * Makes `path` in `target` hold what it holds in `source` (another version of the same file): deleted when absent
 * there; for JSON and dotenv the value's source text is copied, so its layout, comments and quoting come back too.
 */
export function copyValue(target: EditableDocument, source: EditableDocument, path: JsonPath): void {
  const value = source.read(path);
  if (value === undefined) return target.delete(path);
  if ((target instanceof JsonDocument && source instanceof JsonDocument) || (target instanceof DotenvDocument && source instanceof DotenvDocument)) {
    const raw = source.rawAt(path);
    if (raw !== undefined) {
      try {
        target.setRaw(path, raw);
        if (isDeepStrictEqual(target.read(path), value)) return;
      } catch {
        // fall back to setting the value
      }
    }
  }
  target.set(path, value);
}

