/** Declared keys of the `guardrails` section (read by src/guard/config.ts). */
import { bool, configSection, int, list, num, oneOf, section, str } from '../config/keys.ts';

const names = (doc: string, allowed: string) => list(str('one entry'), { default: 'any', allowed, doc });

export const GUARD_DETECTOR_SPEC = section({
  detector: oneOf(['pii', 'secrets', 'injection', 'deny_list', 'judge'], undefined, 'which detector', { default: '—' }),
  on: list(oneOf(['input', 'output'], undefined, 'a direction'), {
    default: '`[input, output]`',
    allowed: '`input` `output`',
    doc: 'the request (before the provider sees it), the answer (streams included), or both',
  }),
  action: oneOf(['block', 'redact', 'flag'], undefined, 'what a finding does (`judge`: `block` or `flag`)', {
    default: '—',
  }),
  on_error: oneOf(
    ['block', 'allow'],
    'block',
    'a detector that fails or times out refuses the request (`503 guard.unavailable`) or, with `allow`, lets it through unchecked; both are logged, counted and a `guard.unavailable` event',
  ),
  types: list(str('a finding type'), {
    default: 'all',
    allowed: '`EMAIL` `PHONE` `CARD` `IBAN` `US_SSN` `IP_ADDRESS`; `OPENAI_KEY` `AWS_ACCESS_KEY` …',
    doc: '`pii`, `secrets`: only these finding types',
  }),
  provider_keys: bool(true, "`secrets`: also find the gateway's own configured provider credentials"),
  threshold: num(0.01, 1, undefined, '`injection`: the score from which a text is an injection', {
    default: "the detector's",
  }),
  name: str("`deny_list`: the list's name; findings are typed `DENY_<NAME>`", {
    default: '—',
    allowed: '1–48 of `a-z 0-9 _`, starting with a letter',
    pattern: '^[a-z][a-z0-9_]{0,47}$',
  }),
  patterns: list(str('a pattern'), {
    default: '`[]`',
    allowed: 'RE2 syntax (linear time)',
    doc: '`deny_list`: regular expressions; one the engine cannot run in linear time (backreferences, look-arounds) is refused at startup',
  }),
  keywords: list(str('a keyword'), { default: '`[]`', allowed: 'strings', doc: '`deny_list`: whole words or phrases' }),
  case_sensitive: bool(false, '`deny_list`: match case exactly'),
  model: str('`judge`: the model route that rates the text (`llama_guard`: a chat route)', {
    default: '—',
    allowed: 'a configured model route',
  }),
  format: oneOf(
    ['llama_guard', 'openai_moderation'],
    'llama_guard',
    "`judge`: Llama Guard's `safe` / `unsafe\\nS1,S2` answer from a chat route, or an OpenAI-family `/moderations` endpoint",
  ),
  timeout_ms: int(50, 60_000, 2000, '`judge`: the whole verdict must arrive within this, or `on_error` decides'),
  categories: list(str('a category'), {
    default: 'all',
    allowed: '`S1`…`S14`, `violence`, …',
    doc: '`judge`: only these verdict categories count',
  }),
});

export const GUARD_POLICY_SPEC = section({
  name: str('shown in events and `config check`; unique', {
    default: '—',
    allowed: '1–48 of `a-z 0-9 _ -`',
    pattern: '^[a-z0-9][a-z0-9_-]{0,47}$',
  }),
  match: section(
    {
      models: names('public model names this policy covers', 'names or patterns (`gpt-*`)'),
      tenants: names('tenant ids', 'tenant ids'),
      teams: names("team ids (a JWT team claim or a client certificate's team)", 'team ids'),
      keys: names('key ids (`portcullis keys list`) or JWT caller ids (`jwt:…`)', 'key ids'),
    },
    { doc: 'all given selectors must match; an empty `match` fits every request' },
  ),
  detectors: list(GUARD_DETECTOR_SPEC, {
    maxItems: 32,
    default: '—',
    allowed: '≤ 32',
    doc: 'the detectors this policy runs, in order (the first `block` that finds something decides the error)',
  }),
});

export const GUARDRAILS_SPEC = configSection(
  'guardrails',
  section({
    enabled: bool(
      true,
      'run the guardrail policies (see [Guardrails](guardrails.md)); `false` keeps the section but checks nothing',
    ),
    policies: list(GUARD_POLICY_SPEC, {
      maxItems: 200,
      default: '`[]`',
      allowed: '≤ 200',
      doc: 'ordered; the first policy whose `match` fits the request applies',
    }),
  }),
);
