/**
 * The fake account's followers, computed rather than stored, so that an account of ten million
 * costs the fake no memory. OpenIDs are 28 characters of [A-Za-z0-9_-], like the real ones.
 */
export interface FollowerList {
  readonly size: number;
  at(index: number): string;
  /** The position of an OpenID, or -1 when it is not on the list. */
  indexOf(openid: string): number;
}

const PREFIX = 'oWx-Fake_';
const WIDTH = 28 - PREFIX.length;

export function generatedFollowers(size: number): FollowerList {
  return {
    size,
    at: (index) => PREFIX + index.toString(36).padStart(WIDTH, '0'),
    indexOf: (openid) => {
      if (openid.length !== 28 || !openid.startsWith(PREFIX)) return -1;
      const index = Number.parseInt(openid.slice(PREFIX.length), 36);
      return Number.isSafeInteger(index) && index >= 0 && index < size ? index : -1;
    },
  };
}

export function listedFollowers(openids: readonly string[]): FollowerList {
  const positions = new Map(openids.map((openid, index) => [openid, index]));
  return {
    size: openids.length,
    at: (index) => openids[index] ?? '',
    indexOf: (openid) => positions.get(openid) ?? -1,
  };
}

/** Every follower in order: for tests that compare an export with the whole list. */
export function allOpenids(list: FollowerList): string[] {
  return Array.from({ length: list.size }, (_, index) => list.at(index));
}
