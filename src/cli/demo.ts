/**
 * The demo: `npm start` with no config file. A gateway in front of the built-in provider
 * emulator, with one model per provider family, and a virtual key created on first run and
 * shown once (only its keyed hash is stored under the data folder).
 */
import { resolve } from 'node:path';
import { parseConfig } from '../config/load.ts';
import type { GatewayConfig } from '../config/types.ts';
import type { MockUpstream } from '../mock-upstream/index.ts';
import { DEFAULT_MOCK_KEYS } from '../mock-upstream/index.ts';

export const DEMO_KEY_LABEL = 'demo';

export function demoConfig(mock: MockUpstream, opts: { host: string; port: number; dataDir: string }): GatewayConfig {
  const { yaml, env, dataDir } = demoConfigSource(mock, opts);
  return parseConfig(yaml, '<demo>', env, dataDir);
}

/** The demo's config text, the environment its `${…}` references name, and its data folder (for the policy seed too). */
export function demoConfigSource(
  mock: MockUpstream,
  opts: { host: string; port: number; dataDir: string },
): { yaml: string; env: Record<string, string>; dataDir: string } {
  const dataDir = resolve(opts.dataDir);
  const env = {
    DEMO_OPENAI_KEY: DEFAULT_MOCK_KEYS.openai,
    DEMO_ANTHROPIC_KEY: DEFAULT_MOCK_KEYS.anthropic,
    DEMO_GEMINI_KEY: DEFAULT_MOCK_KEYS.gemini,
    DEMO_MISTRAL_KEY: DEFAULT_MOCK_KEYS.mistral,
    DEMO_COMPAT_KEY: DEFAULT_MOCK_KEYS['openai-compatible'] || 'unused',
  };
  const provider = (id: string, kind: string, envName: string, p: Parameters<MockUpstream['baseUrl']>[0]) =>
    `  ${id}:\n    kind: ${kind}\n    base_url: ${mock.baseUrl(p)}\n    api_key: \${${envName}}\n    allow_private_network: true\n`;
  const model = (name: string, targets: Array<[string, string, number]>, type = 'chat') =>
    `  ${name}:\n    type: ${type}\n    owned_by: portcullis-demo\n    targets:\n${targets
      .map(([p, m, prio]) => `      - { provider: ${p}, model: ${JSON.stringify(m)}, priority: ${prio} }\n`)
      .join('')}`;
  const yaml = [
    'server:',
    `  host: ${JSON.stringify(opts.host)}`,
    `  port: ${opts.port}`,
    'store:',
    '  driver: sqlite',
    `  path: ${JSON.stringify(resolve(dataDir, 'portcullis.db'))}`,
    'security:',
    `  data_dir: ${JSON.stringify(dataDir)}`,
    'providers:',
    provider('openai', 'openai', 'DEMO_OPENAI_KEY', 'openai') +
      provider('anthropic', 'anthropic', 'DEMO_ANTHROPIC_KEY', 'anthropic') +
      provider('gemini', 'gemini', 'DEMO_GEMINI_KEY', 'gemini') +
      provider('mistral', 'mistral', 'DEMO_MISTRAL_KEY', 'mistral') +
      provider('llama', 'openai-compatible', 'DEMO_COMPAT_KEY', 'openai-compatible'),
    'models:',
    model('demo-gpt', [['openai', 'gpt-4o-mini', 0]]) +
      model('demo-claude', [['anthropic', 'claude-sonnet-4-5', 0]]) +
      model('demo-gemini', [['gemini', 'gemini-2.5-flash', 0]]) +
      model('demo-mistral', [['mistral', 'mistral-small-latest', 0]]) +
      model('demo-llama', [['llama', 'meta-llama/Llama-3.1-8B-Instruct', 0]]) +
      model('demo-fallback', [
        ['gemini', 'gemini-2.5-flash', 0],
        ['openai', 'gpt-4o-mini', 1],
      ]) +
      model('demo-embed', [['openai', 'text-embedding-3-small', 0]], 'embeddings'),
  ].join('\n');
  return { yaml, env, dataDir };
}

export function demoBanner(url: string, key: string | undefined, existingPrefix: string | undefined): string {
  const shownKey = key ?? '<your key>';
  const lines = [
    '',
    `  Portcullis demo is running at ${url}`,
    '  Providers are emulated locally (no real model is called). Models: demo-gpt, demo-claude,',
    '  demo-gemini, demo-mistral, demo-llama, demo-fallback, demo-embed.',
    '',
  ];
  if (key) {
    lines.push('  Your demo API key (shown once; only its hash is stored):', '', `    ${key}`, '');
  } else {
    lines.push(
      `  A demo key (${existingPrefix}…) was created and shown on an earlier run; it is not stored in a`,
      '  readable form. Make another with:  npx portcullis keys create --label me --data-dir ./data',
      '',
    );
  }
  const snippets = demoSnippets(url, shownKey);
  // The snippets are printed flush left, without the banner's indent, so they paste as they are
  // (an indented Python snippet fails with IndentationError).
  lines.push(
    '  Try it (each snippet is ready to paste as printed):',
    '',
    snippets.curl,
    '',
    snippets.python,
    '',
    snippets.javascript,
    '',
    '  Calls without a valid key are refused (401). Stop with Ctrl-C.',
    '',
  );
  return lines.join('\n');
}

/** The first-call snippets of the banner: a shell command, a Python script and an ES module. */
export function demoSnippets(url: string, key: string): { curl: string; python: string; javascript: string } {
  return {
    curl: [
      `curl ${url}/v1/chat/completions \\`,
      `  -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\`,
      `  -d '{"model":"demo-gpt","messages":[{"role":"user","content":"Hello, gateway"}]}'`,
    ].join('\n'),
    python: [
      '# Python: pip install openai, save as hello.py, run python hello.py',
      'from openai import OpenAI',
      '',
      `client = OpenAI(base_url="${url}/v1", api_key="${key}")`,
      'reply = client.chat.completions.create(',
      '    model="demo-claude",',
      '    messages=[{"role": "user", "content": "Hello"}],',
      ')',
      'print(reply.choices[0].message.content)',
    ].join('\n'),
    javascript: [
      '// JavaScript, an ES module (import and top-level await): npm install openai,',
      '// save as hello.mjs (the .mjs extension matters), run node hello.mjs',
      "import OpenAI from 'openai';",
      '',
      `const client = new OpenAI({ baseURL: '${url}/v1', apiKey: '${key}' });`,
      "const reply = await client.chat.completions.create({ model: 'demo-gemini', messages: [{ role: 'user', content: 'Hello' }] });",
      'console.log(reply.choices[0].message.content);',
    ].join('\n'),
  };
}
