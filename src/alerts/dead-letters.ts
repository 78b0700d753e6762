/**
 * Deliveries that failed every attempt, as JSON lines in a file under the data dir (mode
 * 0600). A file rather than a store table: dead letters are a per-instance diagnostic an
 * operator reads with `portcullis alerts dead-letters`, even when the store is the thing that
 * is down, and they must not compete with request-path writes. The file is bounded: past
 * `maxBytes` it is rotated to `<file>.1` (replacing the previous one).
 */

import { existsSync, readFileSync } from 'node:fs';
import { appendFile, mkdir, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { WebhookPayload } from './webhook-event.ts';

export interface DeadLetter {
  readonly time: string;
  readonly webhook_id: string;
  readonly event_id: string;
  readonly event_type: string;
  readonly attempts: number;
  readonly last_error: string;
  readonly payload: WebhookPayload;
}

export interface DeadLetterSink {
  append(letter: DeadLetter): Promise<void>;
}

export const DEFAULT_MAX_DEAD_LETTER_BYTES = 10 * 1024 * 1024;

export function createDeadLetterFile(path: string, maxBytes: number = DEFAULT_MAX_DEAD_LETTER_BYTES): DeadLetterSink {
  // One write at a time, so lines never interleave and rotation sees a settled size.
  let tail: Promise<void> = Promise.resolve();
  return {
    append(letter) {
      const line = `${JSON.stringify(letter)}\n`;
      const write = async () => {
        await mkdir(dirname(path), { recursive: true, mode: 0o700 });
        const size = await stat(path).then(
          (s) => s.size,
          () => 0,
        );
        if (size > 0 && size + line.length > maxBytes) await rename(path, `${path}.1`);
        await appendFile(path, line, { mode: 0o600 });
      };
      const next = tail.then(write);
      tail = next.catch(() => {});
      return next;
    },
  };
}

/** Every readable dead letter in the file (oldest first); unparseable lines are counted, not thrown. */
export function readDeadLetters(path: string): { letters: DeadLetter[]; unreadable: number } {
  if (!existsSync(path)) return { letters: [], unreadable: 0 };
  const letters: DeadLetter[] = [];
  let unreadable = 0;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      letters.push(JSON.parse(line) as DeadLetter);
    } catch {
      unreadable += 1;
    }
  }
  return { letters, unreadable };
}
