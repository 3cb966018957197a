/**
 * The daily net change (joined - left) as horizontal bars around an axis, for a person at a
 * terminal: losses to the left, gains to the right, in Unicode block characters.
 */
import type { DayRow } from './history-formats.js';

/** Lines at most: a longer period is drawn a few days a bar. */
const MAX_BARS = 62;
/** Cells on each side of the axis, when bars go both ways. */
const HALF_WIDTH = 20;
/** A cell's left part, in eighths: ▏ is one eighth, █ all eight. */
const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

interface Bar {
  label: string;
  net: number;
}

export function netChart(days: readonly DayRow[]): string {
  const perBar = Math.max(1, Math.ceil(days.length / MAX_BARS));
  const sameYear = days.every((day) => day.date.slice(0, 4) === days[0]?.date.slice(0, 4));
  const bars: Bar[] = [];
  for (let start = 0; start < days.length; start += perBar) {
    const group = days.slice(start, start + perBar);
    const net = group.reduce((sum, day) => sum + day.joined - day.left, 0);
    const first = group[0]?.date ?? '';
    bars.push({ label: sameYear ? first.slice(5) : first, net });
  }
  const largest = Math.max(0, ...bars.map((bar) => Math.abs(bar.net)));
  const title = perBar === 1 ? 'Net change a day (joined - left):' : `Net change per ${perBar} days (joined - left), from the day shown:`;
  if (largest === 0) return `\n${title} no change.\n`;
  // A side that no bar takes is left out, and the other gets its room.
  const losses = bars.some((bar) => bar.net < 0);
  const gains = bars.some((bar) => bar.net > 0);
  const cells = losses && gains ? HALF_WIDTH : 2 * HALF_WIDTH;
  const lines = bars.map((bar) => {
    // At least an eighth: a day with a change never looks like one without.
    const eighths = bar.net === 0 ? 0 : Math.max(1, Math.round((Math.abs(bar.net) * cells * 8) / largest));
    const left = losses ? (bar.net < 0 ? lossBar(eighths) : '').padStart(cells) : '';
    const right = gains ? (bar.net > 0 ? gainBar(eighths) : '').padEnd(cells) : '';
    const value = bar.net > 0 ? `+${bar.net}` : String(bar.net);
    return `${bar.label}  ${left}│${right}  ${value}`;
  });
  return `\n${title}\n${lines.join('\n')}\n`;
}

/** From the axis rightwards: whole cells, then the cell's left part. */
function gainBar(eighths: number): string {
  return '█'.repeat(Math.floor(eighths / 8)) + (EIGHTHS[eighths % 8] ?? '');
}

/** From the axis leftwards: Unicode has right parts of a cell only for an eighth and a half. */
function lossBar(eighths: number): string {
  const rest = eighths % 8;
  const part = rest >= 4 ? '▐' : rest >= 1 ? '▕' : '';
  return part + '█'.repeat(Math.floor(eighths / 8));
}
