const OLD = 1;
const NEW = 2;
const BOTH = 3;
/** A record in the arena: its length, where it was seen, then its characters. */
const HEADER = 2;

/**
 * The OpenIDs of two exports and where each was seen, in the order first seen: an open-addressing
 * hash table over typed arrays. A Map of five million strings takes seconds to fill and most of a
 * gigabyte; this keeps each OpenID as its bytes (ASCII: checked on reading) in one arena, in the
 * order first seen, with a slot of 8 bytes, and has no limit of 2^24 entries.
 */
export class OpenidTable {
  #used = 0;
  #count = 0;
  /** Pairs (arena offset + 1, hash); 0 is an empty slot. Kept at most half full. */

  #slots = new Uint32Array(2 << 16);
  #mask = (1 << 16) - 1;
  #arena = new Uint8Array(1 << 16);

  /** Makes room for about `count` OpenIDs at once, rather than growing by halves on the way. */
  reserve(count: number): void {
    while (2 * count > this.#mask + 1) this.#growSlots();
    const bytes = count * (HEADER + 28);
    if (bytes > this.#arena.length) this.#growArena(bytes);
  }

  /** The OpenID in `bytes` from `start` up to `end`, of the old export. */
  addOld(bytes: Uint8Array, start: number, end: number): void {
    const hash = hashOf(bytes, start, end);
    if (this.#find(bytes, start, end, hash) < 0) this.#insert(bytes, start, end, hash, OLD);
  }

  /** True when the OpenID is new: in neither export so far. */
  addNew(bytes: Uint8Array, start: number, end: number): boolean {
    const hash = hashOf(bytes, start, end);
    const record = this.#find(bytes, start, end, hash);
    if (record < 0) {
      this.#insert(bytes, start, end, hash, NEW);
      return true;
    }
    if (this.#arena[record + 1] === OLD) this.#arena[record + 1] = BOTH;
    return false;
  }

  /** The OpenIDs of the old export that the new one lacks, in the old export's order. */
  *removed(): Generator<string> {
    const arena = this.#arena;
    for (let record = 0; record < this.#used; record += HEADER + (arena[record] as number)) {
      if (arena[record + 1] !== OLD) continue;
      yield Buffer.from(arena.buffer, arena.byteOffset + record + HEADER, arena[record] as number).toString('latin1');
    }
  }

  /** The arena offset of the record holding `openid`, or -1. */
  #find(bytes: Uint8Array, start: number, end: number, hash: number): number {
    const slots = this.#slots;
    for (let slot = hash & this.#mask; ; slot = (slot + 1) & this.#mask) {
      const record = (slots[2 * slot] as number) - 1;
      if (record < 0) return -1;
      if (slots[2 * slot + 1] === hash && this.#holds(record, bytes, start, end)) return record;
    }
  }

  #holds(record: number, bytes: Uint8Array, start: number, end: number): boolean {
    const arena = this.#arena;
    if (arena[record] !== end - start) return false;
    for (let index = start, at = record + HEADER; index < end; index += 1, at += 1) {
      if (arena[at] !== bytes[index]) return false;
    }
    return true;
  }

  #insert(bytes: Uint8Array, start: number, end: number, hash: number, seen: number): void {
    const length = end - start;
    const size = HEADER + length;
    if (this.#used + size > this.#arena.length) this.#growArena(Math.max(2 * this.#arena.length, this.#used + size));
    const record = this.#used;
    const arena = this.#arena;
    arena[record] = length;
    arena[record + 1] = seen;
    // A loop: a subarray for a 28-byte copy costs more than the copy.
    for (let index = start, at = record + HEADER; index < end; index += 1, at += 1) arena[at] = bytes[index] as number;
    this.#used += size;
    this.#count += 1;
    if (2 * this.#count > this.#mask + 1) this.#growSlots();
    this.#place(record, hash);
  }

  #place(record: number, hash: number): void {
    const slots = this.#slots;
    let slot = hash & this.#mask;
    while (slots[2 * slot] !== 0) slot = (slot + 1) & this.#mask;
    slots[2 * slot] = record + 1;
    slots[2 * slot + 1] = hash;
  }

  #growArena(length: number): void {
    const bigger = new Uint8Array(length);
    bigger.set(this.#arena.subarray(0, this.#used));
    this.#arena = bigger;
  }

  #growSlots(): void {
    const old = this.#slots;
    this.#slots = new Uint32Array(old.length * 2);
    this.#mask = this.#mask * 2 + 1;
    for (let slot = 0; slot < old.length; slot += 2) {
      const record = (old[slot] as number) - 1;
      if (record >= 0) this.#place(record, old[slot + 1] as number);
    }
  }
}

/** FNV-1a over the bytes, as an unsigned 32-bit number. */
function hashOf(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let index = start; index < end; index += 1) hash = Math.imul(hash ^ (bytes[index] as number), 0x01000193);
  return hash >>> 0;
}
