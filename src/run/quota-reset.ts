import { counted } from '../errors.js';

/** China Standard Time is UTC+8 all year: the API's daily quotas reset at 16:00 UTC. */
const RESET_HOUR_UTC = 16;

/** The next 00:00 China Standard Time after `now`. */
export function nextQuotaReset(now: number): Date {
  const reset = new Date(now);
  reset.setUTCHours(RESET_HOUR_UTC, 0, 0, 0);
  if (reset.getTime() <= now) reset.setUTCDate(reset.getUTCDate() + 1);
  return reset;
}

/** "in 5 h 12 min", for a person deciding whether to wait. */
export function untilReset(now: number): string {
  const minutes = Math.ceil((nextQuotaReset(now).getTime() - now) / 60_000);
  const hours = Math.floor(minutes / 60);
  return hours === 0 ? `in ${counted(minutes, 'minute')}` : `in ${hours} h ${minutes % 60} min`;
}
