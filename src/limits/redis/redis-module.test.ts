import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineScript as redisDefineScript } from 'redis';
import { defineScript } from './redis-module.ts';

test('defineScript matches the redis package (same SHA-1 for EVALSHA)', () => {
  const script = {
    SCRIPT: "return redis.call('GET', KEYS[1])",
    NUMBER_OF_KEYS: 1,
    parseCommand(parser: { push: (...a: string[]) => void }, key: string) {
      parser.push(key);
    },
    transformReply: (reply: unknown) => reply as never,
  };
  const ours = defineScript(script);
  const theirs = redisDefineScript(script as never) as { SHA1: string };
  assert.equal(ours.SHA1, theirs.SHA1);
  assert.equal(ours.SCRIPT, script.SCRIPT);
});
