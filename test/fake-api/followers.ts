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

/** Every `step`-th follower from `offset` on: a tag's members, the blacklist. */
export function everyNth(list: FollowerList, step: number, offset = 0): FollowerList {
  return {
    size: Math.max(0, Math.ceil((list.size - offset) / step)),
    at: (index) => list.at(offset + index * step),
    indexOf: (openid) => {
      const position = list.indexOf(openid) - offset;
      return position >= 0 && position % step === 0 ? position / step : -1;
    },
  };
}

/** Every follower in order: for tests that compare an export with the whole list. */
export function allOpenids(list: FollowerList): string[] {
  return Array.from({ length: list.size }, (_, index) => list.at(index));
}

/** Remarks that test a CSV writer: commas, quotes, line breaks, formula starts, non-ASCII. */
const REMARKS = [
  '',
  'VIP, wholesale',
  'said "hello"',
  'two\nlines',
  '=HYPERLINK("http://evil.example","click")',
  '北京 客户',
  '+86 138 0000 0000',
  '@ops check',
  '-10% discount',
  '\tindented',
  '\rreturned',
];
const SCENES = ['ADD_SCENE_SEARCH', 'ADD_SCENE_QR_CODE', 'ADD_SCENE_PROFILE_CARD', 'ADD_SCENE_OTHERS'];
const LANGUAGES = ['zh_CN', 'en', 'zh_TW'];

/**
 * What batchget answers for the follower at `index`, with the real API's field order. Every
 * 13th has unfollowed since the list was read: `subscribe: 0` and little else.
 */
export function followerInfo(openid: string, index: number): Record<string, unknown> {
  if (index % 13 === 5) return { subscribe: 0, openid };
  const scene = SCENES[index % SCENES.length] as string;
  const fromQr = scene === 'ADD_SCENE_QR_CODE';
  return {
    subscribe: 1,
    openid,
    language: LANGUAGES[index % LANGUAGES.length],
    subscribe_time: 1_500_000_000 + index * 3_607,
    ...(index % 2 === 0 ? { unionid: `uWx-Union_${index.toString(36)}` } : {}),
    remark: REMARKS[index % REMARKS.length],
    groupid: 0,
    tagid_list: index % 4 === 0 ? [] : [2, 100 + (index % 5)],
    subscribe_scene: scene,
    qr_scene: fromQr ? index % 1000 : 0,
    qr_scene_str: fromQr ? `campaign,${index % 7}` : '',
  };
}

/** A follower list the test changes between runs, as an account's changes from one day to the next. */
export function changingList(initial: readonly string[]): FollowerList & { set(openids: readonly string[]): void } {
  let openids = [...initial];
  let positions = new Map(openids.map((openid, index) => [openid, index]));
  return {
    get size() {
      return openids.length;
    },
    at: (index) => openids[index] ?? '',
    indexOf: (openid) => positions.get(openid) ?? -1,
    set(next) {
      openids = [...next];
      positions = new Map(openids.map((openid, index) => [openid, index]));
    },
  };
}
