/**
 * How a page of the list is matched against the rows a walk expects, and how what a walk saw is
 * kept: in plain JavaScript, no database. A list comes back in the same order walk after walk, and
 * wx_followers.id follows the order in which the walks first saw each follower; so a page is mostly
 * the next rows of the account in id order (less those that left, plus those that joined at its
 * end), and what a walk saw is a few ranges of ids.
 */

/** The rows of the account after the last page's, in id order: the followers the page is expected to hold. */
export interface Window {
  readonly ids: readonly number[];
  readonly openids: readonly string[];
}

export interface PageMatch {
  /** The ids of the page's OpenIDs found in the window. */
  readonly seenIds: number[];
  /** The page's OpenIDs not in the window (joined, back, or out of the list's order), in page order. */
  readonly unmatched: string[];
  /** The largest id matched in order: where the next page's window starts; undefined when none matched. */
  readonly lastId: number | undefined;
}

/**
 * Walks the page and the window side by side: an OpenID equal to the window's next row is a match;
 * any other is looked for in the rest of the window (rows skipped: followers that left), and, when
 * not there, is unmatched. Linear in the page for a list in the same order as the last walk.
 */
export function matchPage(openids: readonly string[], window: Window): PageMatch {
  if (window.ids.length === 0) return { seenIds: [], unmatched: [...openids], lastId: undefined };
  const seenIds: number[] = [];
  const unmatched: string[] = [];
  let positions: Map<string, number> | undefined;
  let next = 0;
  let lastId: number | undefined;
  for (const openid of openids) {
    let at = window.openids[next] === openid ? next : -1;
    if (at < 0) {
      positions ??= new Map(window.openids.map((windowOpenid, index) => [windowOpenid, index]));
      at = positions.get(openid) ?? -1;
    }
    const id = window.ids[at];
    if (id === undefined) {
      unmatched.push(openid);
      continue;
    }
    seenIds.push(id);
    if (at >= next) {
      next = at + 1;
      lastId = id;
    }
  }
  return { seenIds, unmatched, lastId };
}

/** Ids seen: one by one, and in ranges (the consecutive ids of a statement's new rows). */
export interface SeenIds {
  readonly ids: readonly number[];
  readonly ranges: readonly (readonly [number, number])[];
}

/** Ids and ranges of ids as the fewest [lo, hi] ranges (inclusive) that hold exactly them. */
export function idRanges(ids: readonly number[], ranges: readonly (readonly [number, number])[] = []): [number, number][] {
  const sorted = Float64Array.from(ids).sort();
  const more = [...ranges].sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  const add = (lo: number, hi: number): void => {
    const last = merged.at(-1);
    if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else merged.push([lo, hi]);
  };
  let next = 0;
  for (const id of sorted) {
    for (let range = more[next]; range !== undefined && range[0] <= id; range = more[next]) {
      add(range[0], range[1]);
      next += 1;
    }
    add(id, id);
  }
  for (const range of more.slice(next)) add(range[0], range[1]);
  return merged;
}

/** How many ids the ranges hold. */
export function rangesSize(ranges: readonly (readonly [number, number])[]): number {
  return ranges.reduce((size, [lo, hi]) => size + hi - lo + 1, 0);
}

/** The window sorted by id, if the engine gave it in another order (SQLite's aggregate keeps its input's order in practice, which no document promises). */
export function inIdOrder(window: Window): Window {
  const { ids, openids } = window;
  if (ids.every((id, index) => index === 0 || (ids[index - 1] ?? id) < id)) return window;
  const order = ids.map((_, index) => index).sort((a, b) => (ids[a] ?? 0) - (ids[b] ?? 0));
  return { ids: order.map((index) => ids[index] ?? 0), openids: order.map((index) => openids[index] ?? '') };
}
