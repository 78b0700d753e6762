/**
 * `portcullis report usage` against a real gateway's records: keys show their labels, every
 * model group has a name, and `--from today` works without a `--to`.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { type RunningGateway, startGateway } from './helpers/gateway.ts';

let gw: RunningGateway;

before(async () => {
  gw = await startGateway();
  const billing = new OpenAI({
    baseURL: `${gw.url}/v1`,
    apiKey: await gw.createKey({ label: 'billing-service' }),
    maxRetries: 0,
  });
  const laptop = new OpenAI({
    baseURL: `${gw.url}/v1`,
    apiKey: await gw.createKey({ label: 'ann-laptop' }),
    maxRetries: 0,
  });
  await billing.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'invoice' }] });
  await laptop.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hello' }] });
  await laptop.models.list();
});
after(async () => {
  await gw.stop();
});

test('--group-by key shows each key label; --from today needs no --to', async () => {
  const r = await gw.cli([
    'report',
    'usage',
    '--config',
    gw.configPath,
    '--from',
    'today',
    '--group-by',
    'key',
    '--format',
    'json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { rows: Array<{ key: string; label: string; requests: number }> };
  assert.deepEqual(out.rows.map((x) => x.label).sort(), ['ann-laptop', 'billing-service']);
  assert.equal(out.rows.find((x) => x.label === 'ann-laptop')?.requests, 2);
  for (const row of out.rows) assert.match(row.key, /^key_/);
});

test('--group-by model names every group, model lists included', async () => {
  const r = await gw.cli([
    'report',
    'usage',
    '--config',
    gw.configPath,
    '--from',
    'yesterday',
    '--group-by',
    'model',
    '--format',
    'csv',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const groups = r.stdout
    .trim()
    .split('\r\n')
    .slice(1)
    .map((line) => line.split(',')[0]);
  assert.deepEqual(groups, ['claude', 'gpt', '(no model: models)']);
});

test('the table by key is readable and "--from yesterday --to today" is a closed range', async () => {
  const table = await gw.cli(['report', 'usage', '--config', gw.configPath, '--from', 'today', '--group-by', 'key']);
  assert.match(table.stdout, /^key\s+label\s+requests/);
  assert.match(table.stdout, /billing-service\s+1\s/);
  const empty = await gw.cli([
    'report',
    'usage',
    '--config',
    gw.configPath,
    '--from',
    'yesterday',
    '--to',
    'today',
    '--format',
    'json',
  ]);
  assert.equal(empty.code, 0, empty.stderr);
  assert.deepEqual((JSON.parse(empty.stdout) as { rows: unknown[] }).rows, []);
});
