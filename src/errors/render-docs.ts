/**
 * Renders docs/errors.md from the catalogue. Run `node src/errors/render-docs.ts` after
 * changing codes.ts; `codes.test.ts` fails while the two disagree.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, type ErrorCode } from './codes.ts';

export const ERRORS_DOC_PATH = fileURLToPath(new URL('../../docs/errors.md', import.meta.url));

export function renderErrorsDoc(): string {
  const lines: string[] = [
    '# Error catalogue',
    '',
    '<!-- Generated from src/errors/codes.ts by `node src/errors/render-docs.ts`. Do not edit by hand. -->',
    '',
    'Every error Portcullis returns has a stable `code`. On OpenAI routes the body is',
    '`{"error":{"message","type","param","code"}}`; on `/v1/messages` it is Anthropic\'s',
    '`{"type":"error","error":{"type","message"}}` (the code is also sent in the',
    '`x-portcullis-error-code` header on every route, `x-error-code` with',
    '`server.hide_product_name`). Messages never carry internal or',
    'provider detail; the gateway log has it under the same request id (`x-request-id`).',
    '',
    '| code | HTTP | OpenAI type | Anthropic type | meaning |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
    const s = ERROR_CODES[code];
    lines.push(
      `| \`${code}\` | ${s.status} | ${s.openaiType} | ${s.anthropicType} | ${s.doc.replaceAll('|', '\\|')} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(ERRORS_DOC_PATH, renderErrorsDoc());
  console.log(`wrote ${ERRORS_DOC_PATH}`);
}
