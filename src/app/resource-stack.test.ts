import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../observability/logger.ts';
import { createResourceStack } from './resource-stack.ts';

const log = createLogger({ level: 'silent' });

describe('resource stack', () => {
  it('closes in reverse order of opening, once, even when called twice', async () => {
    const closed: string[] = [];
    const stack = createResourceStack(log);
    const a = stack.push('a', { id: 'a' }, (r) => {
      closed.push(r.id);
    });
    stack.defer('b', async () => {
      await new Promise((r) => setTimeout(r, 5));
      closed.push('b');
    });
    stack.push('c', 'c', (r) => {
      closed.push(r);
    });
    assert.equal(a.id, 'a');
    assert.deepEqual(stack.names(), ['a', 'b', 'c']);
    await Promise.all([stack.close(), stack.close()]);
    assert.deepEqual(closed, ['c', 'b', 'a']);
    await stack.close();
    assert.deepEqual(closed, ['c', 'b', 'a']);
  });

  it('keeps closing the rest when one step throws', async () => {
    const closed: string[] = [];
    const stack = createResourceStack(log);
    stack.defer('first', () => {
      closed.push('first');
    });
    stack.defer('broken', () => {
      throw new Error('boom');
    });
    stack.defer('last', () => {
      closed.push('last');
    });
    await stack.close();
    assert.deepEqual(closed, ['last', 'first']);
  });

  it('refuses a resource opened after closing began (it would never be closed)', async () => {
    const stack = createResourceStack(log);
    await stack.close();
    assert.throws(() => stack.defer('late', () => {}), /opened after close began/);
  });
});
