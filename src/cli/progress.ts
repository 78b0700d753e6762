/**
 * Progress of a long CLI operation (master-key and data-key rotation, audit export), written to
 * stderr so stdout stays the operation's output. On a terminal: one bar redrawn in place with
 * the count, rate and ETA. Otherwise (a pipe, a log file, CI, TERM=dumb): plain lines, at most
 * one every few seconds plus the last, so a log is not flooded.
 */

export interface ProgressSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressOptions {
  /** What is being done, e.g. "re-wrapping data keys". */
  readonly label: string;
  /** What is counted, plural: "keys", "rows", "records". */
  readonly unit: string;
  /** Known up front, or later through `update`; without one there is no bar or ETA. */
  readonly total?: number;
  readonly sink?: ProgressSink;
  /** Draw a bar (default: the sink is a terminal and TERM is not dumb). */
  readonly tty?: boolean;
  readonly now?: () => number;
  /** Plain mode: least time between two lines (default 2 s). */
  readonly plainIntervalMs?: number;
}

export interface Progress {
  /** `done` is the count so far (not an increment). */
  update(done: number, total?: number): void;
  /** Adds to the count. */
  tick(n?: number): void;
  /** The final state: the bar is completed and the line ended. */
  finish(): void;
}

const REDRAW_MS = 100;
const BAR_MIN = 10;
const BAR_MAX = 40;

export function createProgress(opts: ProgressOptions): Progress {
  const sink = opts.sink ?? process.stderr;
  const tty = opts.tty ?? (sink.isTTY === true && process.env.TERM !== 'dumb');
  const now = opts.now ?? (() => performance.now());
  const plainInterval = opts.plainIntervalMs ?? 2000;
  const started = now();
  let done = 0;
  let total = opts.total;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let finished = false;
  let drewAny = false;

  const draw = (final: boolean): void => {
    const t = now();
    if (!final && t - lastDraw < (tty ? REDRAW_MS : plainInterval)) return;
    lastDraw = t;
    drewAny = true;
    const status = describe(done, total, (t - started) / 1000, opts.unit);
    if (tty) {
      const width = sink.columns !== undefined && sink.columns > 0 ? sink.columns : 80;
      const room = width - opts.label.length - status.length - 4;
      const bar =
        total !== undefined && total > 0 && room >= BAR_MIN
          ? `${renderBar(done / total, Math.min(BAR_MAX, room))} `
          : '';
      // \r and erase-to-end-of-line redraw the same line.
      sink.write(`\r\u001b[2K${opts.label} ${bar}${status}${final ? '\n' : ''}`);
    } else {
      sink.write(`${opts.label}: ${status}\n`);
    }
  };

  return {
    update(n, newTotal) {
      if (finished) return;
      done = n;
      if (newTotal !== undefined) total = newTotal;
      draw(false);
    },
    tick(n = 1) {
      this.update(done + n);
    },
    finish() {
      if (finished) return;
      finished = true;
      if (total !== undefined && done > total) total = done;
      if (drewAny || tty || done > 0) draw(true);
    },
  };
}

/** "450/1,000 rows (45%), 120 rows/s, ETA 5s" — the parts that are known. */
export function describe(done: number, total: number | undefined, elapsedS: number, unit: string): string {
  const parts: string[] = [];
  const count = total !== undefined ? `${group(done)}/${group(total)} ${unit}` : `${group(done)} ${unit}`;
  parts.push(
    total !== undefined && total > 0 ? `${count} (${Math.floor((Math.min(done, total) / total) * 100)}%)` : count,
  );
  const rate = elapsedS > 0 ? done / elapsedS : 0;
  if (elapsedS >= 0.05 && done > 0) parts.push(`${formatRate(rate)} ${unit}/s`);
  if (total !== undefined && done < total)
    parts.push(rate > 0 && elapsedS >= 0.05 ? `ETA ${formatDuration((total - done) / rate)}` : 'ETA …');
  else if (total !== undefined) parts.push(`in ${formatDuration(elapsedS)}`);
  return parts.join(', ');
}

export function renderBar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'-'.repeat(width - full)}]`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatRate(rate: number): string {
  return rate >= 100 ? group(Math.round(rate)) : rate >= 10 ? rate.toFixed(0) : rate.toFixed(1);
}

function group(n: number): string {
  return n.toLocaleString('en-US');
}
