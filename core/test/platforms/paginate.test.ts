import {describe, expect, it} from 'vitest';
import type {Page, PageRequest} from '../../src/plugin.js';
import {paginate}               from '../../src/platforms/paginate.js';

type Item = {id: string};
const items = (from: number, count: number): Item[] => Array.from({length: count}, (_, i) => ({id: `k${from + i}`}));

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** A listing of `total` items served `size` per page by offset, recording every request. */
function offsetListing(total: number, size: number) {
  const asked: PageRequest[] = [];
  const fetchPage = async (at: PageRequest): Promise<Item[]> => {
    asked.push(at);
    return items(at.offset, Math.max(0, Math.min(size, total - at.offset)));
  };
  return {asked, fetchPage};
}

describe(`paginate`, () => {
  it(`reads pages in order until a short page, offsets following the first page's length`, async () => {
    const {asked, fetchPage} = offsetListing(230, 100);
    const got = await collect(paginate(fetchPage));
    expect(got.map(i => i.id)).toEqual(items(0, 230).map(i => i.id));
    expect(asked).toEqual([{page: 0, offset: 0}, {page: 1, offset: 100}, {page: 2, offset: 200}]);
  });

  it(`with a known page size, a short first page is the last one: no request beyond it, even with prefetch`, async () => {
    const {asked, fetchPage} = offsetListing(3, 100);
    expect(await collect(paginate(fetchPage, {prefetch: 4, pageSize: 100}))).toHaveLength(3);
    expect(asked).toEqual([{page: 0, offset: 0}]);
    // Without it, the short page is only known as the last once the next one comes back empty.
    const unknown = offsetListing(3, 100);
    await collect(paginate(unknown.fetchPage, {prefetch: 4}));
    expect(unknown.asked.length).toBeGreaterThan(1);
  });

  it(`stops on an empty page when the total is a multiple of the page size`, async () => {
    const {asked, fetchPage} = offsetListing(200, 100);
    expect(await collect(paginate(fetchPage))).toHaveLength(200);
    expect(asked.map(a => a.page)).toEqual([0, 1, 2]);
  });

  it(`yields each id once when items shift between pages`, async () => {
    // A key created between two requests: page 1 repeats the last item of page 0.
    const pages = [items(0, 3), items(2, 3), items(5, 1)];
    const got = await collect(paginate(async ({page}) => pages[page] ?? []));
    expect(got.map(i => i.id)).toEqual([`k0`, `k1`, `k2`, `k3`, `k4`, `k5`]);
  });

  it(`stops when a page brings nothing new (a server that ignores the page parameter)`, async () => {
    let calls = 0;
    const got = await collect(paginate(async () => {
      calls++;
      return items(0, 2);
    }));
    expect(got).toHaveLength(2);
    expect(calls).toBe(2);
  });

  it(`stops at the reported total and follows a reported next page`, async () => {
    const asked: number[] = [];
    // new-api style: 1-based pages, each answer names its own number.
    const fetchPage = async ({page}: PageRequest): Promise<Page<Item>> => {
      asked.push(page);
      const number = Math.max(1, page);
      return {items: items((number - 1) * 2, 2), total: 6, next: number + 1};
    };
    const got = await collect(paginate(fetchPage));
    expect(asked).toEqual([0, 2, 3]);
    expect(got.map(i => i.id)).toEqual([`k0`, `k1`, `k2`, `k3`, `k4`, `k5`]);
  });

  it(`prefetches the next pages while one is consumed, and lets the extra ones finish before it returns`, async () => {
    const {asked, fetchPage} = offsetListing(250, 100);
    let settled = 0;
    const counting = (at: PageRequest) => fetchPage(at).finally(() => settled++);
    const got = await collect(paginate(counting, {prefetch: 4}));
    expect(got).toHaveLength(250);
    // Pages 1-5 went out together after page 0, page 6 after page 1; 3-6 were not needed but were awaited.
    expect(asked.map(a => a.offset)).toEqual([0, 100, 200, 300, 400, 500, 600]);
    expect(settled).toBe(asked.length);
  });

  it(`throws a page's failure, and a failing prefetched page that is never reached stays silent`, async () => {
    const fail = async ({page}: PageRequest): Promise<Item[]> => {
      if (page === 1) throw new Error(`page 1 failed`);
      return page === 0 ? items(0, 2) : items(page * 2, 1);
    };
    await expect(collect(paginate(fail, {prefetch: 2}))).rejects.toThrow(`page 1 failed`);

    const lateFailure = async ({page}: PageRequest): Promise<Item[]> => {
      if (page === 2) throw new Error(`page 2 failed`);
      return page === 0 ? items(0, 2) : items(2, 1);
    };
    // Page 1 is short, so page 2 (already requested) is not needed: its failure is not the caller's problem.
    expect(await collect(paginate(lateFailure, {prefetch: 2}))).toHaveLength(3);
  });

  it(`stops requesting when the caller breaks off`, async () => {
    const {asked, fetchPage} = offsetListing(1000, 10);
    for await (const item of paginate(fetchPage)) if (item.id === `k15`) break;
    expect(asked.map(a => a.page)).toEqual([0, 1]);
  });
});
