// `ctx.paginate`: the one paging loop every platform's `listKeys` uses (dedupe by id, stop on a short page, optional
// prefetch), so no plugin writes its own.
import type {Page, PageRequest, PaginateOptions} from '../plugin.js';

type Fetched<T> = Page<T> | readonly T[];

function asPage<T>(fetched: Fetched<T>): Page<T> {
  return Array.isArray(fetched) ? {items: fetched as readonly T[]} : fetched as Page<T>;
}

export async function* paginate<T extends {id: string}>(fetchPage: (at: PageRequest) => Promise<Fetched<T>>, options: PaginateOptions = {}): AsyncGenerator<T> {
  const prefetch = Math.max(0, Math.floor(options.prefetch ?? 0));
  const seen = new Set<string>();
  // Offsets count every page as long as the first (the provider's page size; OpenRouter has no size parameter).
  let firstLength: number | undefined;
  let longest = 0;
  // Requested pages in order; the head is the one consumed next.
  let queue: {page: number; result: Promise<Page<T>>}[] = [];
  const request = (page: number) => {
    const result = fetchPage({page, offset: page * (firstLength ?? 0)}).then(asPage);
    // Marked handled now: if listing stops early (an earlier page failed, the caller broke off), a prefetched page's
    // failure must not surface as an unhandled rejection. Awaiting it below still sees the error.
    result.catch(() => {});
    queue.push({page, result});
  };
  // Lets requests already sent finish (their results are not needed) so none outlives the listing.
  const drain = async () => {
    const pending = queue;
    queue = [];
    await Promise.allSettled(pending.map(p => p.result));
  };

  request(0);
  try {
    for (;;) {
      const {page, result} = queue.shift()!;
      const {items, total, next} = await result;
      firstLength ??= items.length;
      let fresh = 0;
      for (const item of items) {
        if (seen.has(item.id)) continue;
        seen.add(item.id);
        fresh++;
        yield item;
      }
      // An empty or short page is the last one; a page of nothing new means the server ignores the page parameter.
      if (items.length === 0 || items.length < longest || fresh === 0) return;
      if (options.pageSize !== undefined && items.length < options.pageSize) return;
      if (total !== undefined && seen.size >= total) return;
      longest = Math.max(longest, items.length);
      const following = next ?? page + 1;
      // Pages fetched ahead on the assumption `page + 1` are dropped when the provider points elsewhere.
      if (queue.length > 0 && queue[0]!.page !== following) await drain();
      let last = queue.at(-1)?.page ?? following - 1;
      while (queue.length < 1 + prefetch) request(++last);
    }
  } finally {
    await drain();
  }
}
