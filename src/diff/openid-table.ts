const OLD = 1;
const NEW = 2;
const BOTH = 3;
type Seen = typeof OLD | typeof NEW | typeof BOTH;

/**
 * The OpenIDs of two exports and where each was seen, in the order first seen. V8's Map holds
 * at most 2^24 entries and an account can have more followers, so full maps are chained, which
 * keeps the order too.
 */
export class OpenidTable {
  readonly #maps: Map<string, Seen>[] = [new Map()];
  readonly #mapLimit: number;

  constructor(mapLimit = 16_000_000) {
    this.#mapLimit = mapLimit;
  }

  addOld(openid: string): void {
    if (this.#find(openid) === undefined) this.#insert(openid, OLD);
  }

  /** True when the OpenID is new: in neither export so far. */
  addNew(openid: string): boolean {
    const map = this.#find(openid);
    if (map === undefined) {
      this.#insert(openid, NEW);
      return true;
    }
    if (map.get(openid) === OLD) map.set(openid, BOTH);
    return false;
  }

  /** The OpenIDs of the old export that the new one lacks, in the old export's order. */
  *removed(): Generator<string> {
    for (const map of this.#maps) {
      for (const [openid, seen] of map) if (seen === OLD) yield openid;
    }
  }

  #find(openid: string): Map<string, Seen> | undefined {
    for (const map of this.#maps) if (map.has(openid)) return map;
    return undefined;
  }

  #insert(openid: string, seen: Seen): void {
    let last = this.#maps[this.#maps.length - 1] as Map<string, Seen>;
    if (last.size >= this.#mapLimit) {
      last = new Map();
      this.#maps.push(last);
    }
    last.set(openid, seen);
  }
}
