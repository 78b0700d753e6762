import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatRequest } from '../../providers/canonical.ts';
import { PAYLOAD_DEFAULTS } from './config.ts';
import { checkChatPayload, checkEmbeddingsPayload } from './payload-caps.ts';

const caps = {
  ...PAYLOAD_DEFAULTS,
  maxMessages: 3,
  maxPromptChars: 100,
  maxOutputTokens: 50,
  maxImages: 1,
  maxImageBytes: 30,
  maxTools: 1,
  maxEmbeddingInputs: 2,
};
const user = (content: ChatRequest['messages'][number]['content']) => ({
  role: 'user' as const,
  content: content as string,
});

function refused(fn: () => void): { code: string; param: string | undefined; status: number; message: string } {
  try {
    fn();
  } catch (e) {
    return e as never;
  }
  assert.fail('expected a refusal');
}

test('within every cap passes', () => {
  checkChatPayload({ model: 'm', messages: [user('hello')], max_tokens: 50 }, caps);
  checkEmbeddingsPayload({ model: 'e', input: ['a', 'b'] }, caps);
});

test('each cap refuses with the path and the numbers', () => {
  let e = refused(() => checkChatPayload({ model: 'm', messages: [user('a'), user('b'), user('c'), user('d')] }, caps));
  assert.deepEqual([e.code, e.status, e.param], ['request.payload_limit', 413, 'messages']);
  assert.match(e.message, /messages: 4 > 3/);
  e = refused(() => checkChatPayload({ model: 'm', messages: [user('x'.repeat(101))] }, caps));
  assert.match(e.message, /prompt characters: 101 > 100/);
  e = refused(() => checkChatPayload({ model: 'm', messages: [user('x')], max_completion_tokens: 51 }, caps));
  assert.deepEqual([e.code, e.status, e.param], ['request.output_limit', 400, 'max_completion_tokens']);
  const img = (url: string) => ({ type: 'image_url' as const, image_url: { url } });
  e = refused(() =>
    checkChatPayload(
      { model: 'm', messages: [{ role: 'user', content: [img('https://x/a.png'), img('https://x/b.png')] }] },
      caps,
    ),
  );
  assert.equal(e.param, 'messages[0].content[1]');
  e = refused(() =>
    checkChatPayload(
      { model: 'm', messages: [{ role: 'user', content: [img(`data:image/png;base64,${'A'.repeat(44)}`)] }] },
      caps,
    ),
  );
  assert.deepEqual([e.param, e.message.includes('33 > 30')], ['messages[0].content[0].image_url.url', true]);
  const tool = (name: string) => ({ type: 'function' as const, function: { name } });
  e = refused(() => checkChatPayload({ model: 'm', messages: [user('x')], tools: [tool('a'), tool('b')] }, caps));
  assert.equal(e.param, 'tools');
  e = refused(() => checkEmbeddingsPayload({ model: 'e', input: ['a', 'b', 'c'] }, caps));
  assert.equal(e.param, 'input');
});

test('tool-call arguments and tool schemas count towards the prompt', () => {
  const e = refused(() =>
    checkChatPayload(
      {
        model: 'm',
        messages: [
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: 'y'.repeat(100) } }],
          },
        ],
      },
      caps,
    ),
  );
  assert.match(e.message, /prompt characters/);
});
