// The one way plugins read config files (`detect`, `model`): through core's safe reads, never opening a file
// themselves, so a FIFO, a huge or a looping file behaves the same in every plugin.
import {openDocument}  from './document.js';
import {readAgentText} from './read.js';
import type {ConfigReader} from '../plugin.js';

/** A {@link ConfigReader} over core's safe reads: a missing, odd or unparseable file reads as undefined. */
export function configReader(): ConfigReader {
  const documents = new Map<string, Promise<ReturnType<typeof openDocument> | undefined>>();
  return async (file, at) => {
    const key = `${file.format}\0${file.path}`;
    let doc = documents.get(key);
    if (!doc) {
      doc = readAgentText(file.path).then(text => openDocument(file.format, text, file.path)).catch(() => undefined);
      documents.set(key, doc);
    }
    try {
      return (await doc)?.read(at);
    } catch {
      return undefined;
    }
  };
}
