import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from './logger.ts';
import { defaultColour, formatPrettyLine } from './pretty-log.ts';

const line = (o: Record<string, unknown>) =>
  JSON.stringify({ level: 'info', time: '2026-12-04T17:48:01.123Z', service: 'portcullis', ...o });

describe('pretty logs', () => {
  it('one readable line: time, level, message, the request fields first', () => {
    const out = formatPrettyLine(
      line({
        msg: 'request',
        traceId: 'abc',
        path: '/v1/chat/completions',
        status: 200,
        method: 'POST',
        latencyMs: 12.5,
        requestId: 'r-1',
      }),
      false,
    );
    assert.equal(
      out,
      '17:48:01.123 INFO  request requestId=r-1 status=200 method=POST path=/v1/chat/completions latencyMs=12.5 traceId=abc\n',
    );
  });

  it('colours the level on a terminal, not elsewhere', () => {
    assert.ok(formatPrettyLine(line({ level: 'error', msg: 'boom' }), true).includes('\u001b[31mERROR\u001b[0m'));
    assert.ok(!formatPrettyLine(line({ level: 'error', msg: 'boom' }), false).includes('\u001b'));
  });

  it('a client-chosen value cannot inject a newline or a terminal escape', () => {
    const out = formatPrettyLine(
      line({ msg: 'request', path: '/v1/x\n17:00:00.000 INFO  forged\u001b]0;owned\u0007', model: 'a b' }),
      true,
    );
    assert.equal(out.split('\n').length, 2, 'still one line');
    assert.ok(!out.includes('\u0007') && !out.includes('\u001b]0'), 'no raw control characters from the value');
    assert.ok(out.includes(String.raw`"/v1/x\n17:00:00.000 INFO  forged\u001b]0;owned\u0007"`));
    assert.ok(out.includes('"a b"'), 'a value with a space is quoted');
  });

  it('nested values are JSON; lines that are not JSON are passed on quoted', () => {
    assert.match(
      formatPrettyLine(line({ msg: 'listening', models: ['a', 'b'] }), false),
      /listening models=\["a","b"\]\n$/,
    );
    assert.equal(formatPrettyLine('not json\u001b[2J\n', false), '"not json\\u001b[2J"\n');
  });

  it('secrets are redacted before the line is made pretty', () => {
    const lines: string[] = [];
    const log = createLogger({
      level: 'info',
      format: 'pretty',
      destination: {
        write: (s: string) => {
          lines.push(s);
        },
      },
    });
    log.info({ apiKey: 'sk-planted-secret', headers: { authorization: 'Bearer sk-planted-secret' } }, 'provider call');
    assert.equal(lines.length, 1);
    assert.doesNotMatch(lines[0]!, /sk-planted-secret/);
    assert.match(lines[0]!, /INFO {2}provider call apiKey=\[redacted\]/);
  });

  it('colour follows NO_COLOR, FORCE_COLOR and TERM=dumb', () => {
    assert.equal(defaultColour(true, {}), true);
    assert.equal(defaultColour(false, {}), false);
    assert.equal(defaultColour(true, { NO_COLOR: '1' }), false);
    assert.equal(defaultColour(true, { TERM: 'dumb' }), false);
    assert.equal(defaultColour(false, { FORCE_COLOR: '1' }), true);
  });
});
