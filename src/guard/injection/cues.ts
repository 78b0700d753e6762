/**
 * The cues of prompt injection and jailbreaks, matched in the folded view (lower case, no
 * diacritics, leetspeak and spacing undone). Each cue has a weight: the probability, as judged
 * from how such phrases are used, that a text containing it is an attack. Strong cues (an
 * order to ignore the previous instructions, a request for the system prompt, a chat-template
 * token in user text) pass the threshold on their own; weak ones (`pretend to be`, `no
 * restrictions`, `uncensored`) only together, because each alone is common in benign
 * role-play, security questions and documents. Weights are set per kind of phrase, not per
 * corpus item.
 *
 * Every pattern is bounded (gaps of a few words, no nested unbounded repetition), so each runs
 * in time linear in the text.
 */

export type CueFamily = 'override' | 'jailbreak' | 'extraction' | 'indirect';

export interface Cue {
  readonly id: string;
  readonly family: CueFamily;
  readonly weight: number;
  /** Sticky: tried only where one of `triggers` occurs. */
  readonly re: RegExp;
  /** Literal beginnings of every match (from the pattern's leading alternatives); undefined
   *  when the pattern has none long enough, and then it is run over the whole text. */
  readonly triggers: readonly string[] | undefined;
  /** For a cue without triggers: substrings of which every match holds at least one; a text
   *  with none of them is not searched. Undefined: searched always. */
  readonly needles?: readonly string[];
}

/** A word of a gap: a run of letters and digits, and at most one short ending after an
 *  apostrophe where the word ends (`don't`, `chatgpt's`). Any other apostrophe is a separator,
 *  so a text splits into the gap's words and separators in one way (two where such an ending
 *  could be its own word). When a word could take apostrophes anywhere, as separators can, a
 *  run of them after a trigger word (`ignore` and 4,000 `'`) could be split across the gap's
 *  words in millions of ways, each tried before the cue failed: 30-50 s of one scan of one
 *  4 KB text, with the event loop held.
 *
 *  The look-aheads change no match (a gap's word is always followed by a separator, or by its
 *  ending and then one): they stop the engine from retrying each shorter run of a word when
 *  what follows the word fails, one check instead of three or four per unit given back
 *  (injection alone on the bench's 2 KB prompt, warm: 26.1 → 25.1 µs). */
const WORD = `[a-z0-9]{1,20}(?![a-z0-9])(?:['’][a-z]{1,2}(?![a-z0-9]))?`;
/** Up to `n` whole words in between (line breaks too: instructions split over lines), each
 *  delimited by separators (see WORD for why the split is unique).
 *
 *  A run of separators is up to 8 long, here and inside phrases (`any`): padding words with
 *  runs of spaces or blank lines is an evasion, and irregexp compiles a bound of 5 or more as
 *  a loop but unrolls one of 4 or less into copies, each duplicating the code after it. With
 *  {1,4} here and {1,3} in phrases the cues took about 3 MB of machine code (16 MB with their
 *  joined patterns on varied text); with loops, about 0.3 MB (5 MB). */
const gap = (n: number) => `(?:[^a-z0-9]{1,8}${WORD}){0,${n}}[^a-z0-9]{1,8}`;
/** Up to `n` characters in between, for scripts written without spaces. */
const cjkGap = (n: number) => `[^\\n]{0,${n}}`;
/** Alternatives; a space inside a phrase stands for a run of up to 8 separators (see `gap`). */
const any = (...words: string[]) => `(?:${words.map((w) => w.replaceAll(' ', '[^a-z0-9]{1,8}')).join('|')})`;

// Vocabulary (stems; the folded text has no diacritics).
const OVERRIDE_VERB_EN = any(
  'ignor',
  'disregard',
  'forget',
  'overrid',
  'overwrit',
  'bypass',
  'neglect',
  'abandon',
  'discard',
  'dismiss',
  'circumvent',
  'skip',
  'drop',
  'do not follow',
  "don't follow",
  'stop following',
  'no longer follow',
  'pay no attention to',
  'throw away',
  'set aside',
);
const PRIOR_EN = any(
  'previous',
  'prior',
  'above',
  'earlier',
  'preceding',
  'former',
  'initial',
  'original',
  'all',
  'your',
  'system',
  'developer',
  'safety',
);
const RULES_EN = any(
  'instruction',
  'direction',
  'rule',
  'guideline',
  'prompt',
  'directive',
  'programming',
  'guardrail',
  'polic',
  'restriction',
  'constraint',
  'filter',
  'safeguard',
  'command',
  'order',
  'training',
  'principle',
  'content policy',
  'ethic',
  'context',
  'information',
  'info',
  'assignment',
  'task',
);
const OVERRIDE_VERB_DE = any(
  'ignorier',
  'vergiss',
  'vergessen',
  'vergesst',
  'missacht',
  'uberschreib',
  'verwirf',
  'beachte nicht',
  'befolge nicht',
  'hor auf',
);
const RULES_DE = any(
  'ausfuhrung',
  'angabe',
  'anweisung',
  'instruktion',
  'befehl',
  'regel',
  'vorgabe',
  'richtlinie',
  'aufgabe',
  'prompt',
  'anordnung',
  'auftrag',
  'informationen',
  'einschrankung',
);
const OVERRIDE_VERB_FR = any(
  'ignor',
  'oubli',
  'neglig',
  'contourn',
  'outrepass',
  'ne tiens pas compte',
  'fais abstraction',
  'faites abstraction',
  'ne suis pas',
  'ne suivez pas',
);
const RULES_FR = any(
  'instruction',
  'consigne',
  'regle',
  'directive',
  'ordre',
  'commande',
  'prompt',
  'restriction',
  'indication',
);
const OVERRIDE_VERB_ES = any(
  'ignor',
  'olvid',
  'omit',
  'descart',
  'pasa por alto',
  'pase por alto',
  'haz caso omiso',
  'no sigas',
  'no obedezcas',
  'desobedec',
);
const RULES_ES = any(
  'instruccion',
  'regla',
  'directriz',
  'directrices',
  'indicacion',
  'orden',
  'comando',
  'prompt',
  'restriccion',
  'norma',
);
const OVERRIDE_VERB_ZH = any(
  '覆盖',
  '忽略',
  '无视',
  '忽视',
  '不要理会',
  '不要管',
  '忘记',
  '忘掉',
  '跳过',
  '绕过',
  '不要遵守',
  '不再遵守',
  '放弃',
  '抛开',
  '無視',
  '忽略掉',
);
const RULES_ZH = any(
  '指令',
  '指示',
  '说明',
  '規則',
  '规则',
  '提示',
  '命令',
  '要求',
  '设定',
  '設定',
  '限制',
  '约束',
  '准则',
);
const REVEAL_EN = any(
  'see',
  'view',
  'encode',
  'explain',
  'format',
  'read',
  'access',
  'reveal',
  'show',
  'print',
  'display',
  'output',
  'repeat',
  'recite',
  'tell',
  'give',
  'share',
  'leak',
  'expose',
  'dump',
  'write out',
  'spell out',
  'disclose',
  'copy',
  'provide',
  'return',
  'echo',
  'list',
  'what (?:is|are|was|were)',
  'translate',
  'summari[sz]e',
);
const HIDDEN_EN = any('system', 'hidden', 'secret', 'internal', 'pre', 'developer', 'confidential', 'initial');
const LOOSE_HIDDEN_EN = any('original', 'starting', 'first', 'full', 'complete', 'exact', 'above', 'previous', 'prior');
const PROMPT_EN = any('prompt', 'instruction', 'directive', 'system message', 'rules', 'guidelines');

function cue(id: string, family: CueFamily, weight: number, source: string, needles?: readonly string[]): Cue {
  const triggers = leadingLiterals(source);
  const re = new RegExp(source, triggers === undefined ? 'g' : 'y');
  return needles === undefined ? { id, family, weight, re, triggers } : { id, family, weight, re, triggers, needles };
}

/** The alternatives of `source` outside any group (one when it has no such alternation). */
function topLevelBranches(source: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') {
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(source.slice(from, i));
      from = i + 1;
    }
  }
  out.push(source.slice(from));
  return out;
}

/**
 * The literal text every match starts with, one per leading alternative: `\\b(?:ignor|forget)…`
 * gives ['ignor', 'forget']. Undefined when an alternative starts with fewer than two literal
 * characters.
 */
export function leadingLiterals(source: string): string[] | undefined {
  // Alternatives outside any group (`\\badmin…|\\boverride…`): a match starts with one of the
  // literals of one of them.
  const branches = topLevelBranches(source);
  if (branches.length > 1) {
    const all = branches.map(leadingLiterals);
    return all.every((l) => l !== undefined) ? [...new Set(all.flat() as string[])] : undefined;
  }
  const rest = source.startsWith('\\b') ? source.slice(2) : source;
  let alternatives: string[];
  if (rest.startsWith('(?:')) {
    let depth = 0;
    let end = -1;
    const parts: string[] = [];
    let from = 3;
    for (let i = 0; i < rest.length; i++) {
      const c = rest[i];
      if (c === '\\') {
        i++;
        continue;
      }
      if (c === '[') {
        while (i < rest.length && rest[i] !== ']') i += rest[i] === '\\' ? 2 : 1;
        continue;
      }
      if (c === '(') depth++;
      else if (c === ')') {
        depth--;
        if (depth === 0) {
          end = i;
          break;
        }
      } else if (c === '|' && depth === 1) {
        parts.push(rest.slice(from, i));
        from = i + 1;
      }
    }
    if (end === -1 || /^[?*+{]/.test(rest.slice(end + 1))) return undefined;
    parts.push(rest.slice(from, end));
    alternatives = parts;
  } else {
    alternatives = [rest];
  }
  const out: string[] = [];
  for (const alt of alternatives) {
    const lit = /^[a-z0-9'’<\u3000-\u9fff]+/.exec(alt)?.[0] ?? '';
    // A literal followed by an optional quantifier is not required in full.
    const next = alt[lit.length];
    const usable = next === '?' || next === '*' || next === '{' ? lit.slice(0, -1) : lit;
    if (usable.length < 2 && !/[\u3000-\u9fff]/.test(usable)) return undefined;
    out.push(usable);
  }
  return out;
}

/**
 * What a user asks to be ignored when it is their own earlier text, not instructions: "please
 * ignore the previous email", "disregard my previous message", "forget the above draft" are
 * everyday chat, and scored as an override (0.6) they were refused. After `previous` / `prior`
 * / `above` the cue reads one more whole word (or the end of a sentence), and not one of these
 * ("the previous messages from the system" still counts). More text never takes a cue back (a
 * stream refuses as soon as the score is reached), so the word must be complete, with the
 * character after it, before the cue can match.
 */
const OWN_EARLIER_EN = any(
  'email',
  'mail',
  'message',
  'version',
  'draft',
  'question',
  'repl',
  'post',
  'comment',
  'attempt',
  'typo',
  'one',
  'link',
  'file',
  'image',
  'photo',
  'screenshot',
  'upload',
  'paragraph',
  'sentence',
  'line',
  'answer',
  'response',
  'result',
  'translation',
  'summar',
  'invoice',
  'order',
  'chapter',
  'section',
  'page',
  'slide',
  'table',
  'chart',
  'list',
  'item',
  'entr',
  'meeting',
  'call',
  'appointment',
  'date',
  'address',
  'number',
);
const AFTER_EARLIER_EN = `(?:[^a-z0-9]{1,8}(?!${OWN_EARLIER_EN}\\w*(?![a-z0-9])(?![^a-z0-9]{1,8}${any('from', 'by', 'of')}${gap(1)}${any('system', 'developer', 'admin', 'operator', 'assistant', 'openai', 'anthropic')}))[a-z0-9]{1,20}(?=[^a-z0-9])|[^a-z0-9]{0,8}[.!?;:\\n])`;

export const CUES: readonly Cue[] = [
  // --- instruction override ---------------------------------------------------------------
  cue('override-en', 'override', 0.85, `\\b${OVERRIDE_VERB_EN}\\w*${gap(4)}${PRIOR_EN}\\w*${gap(3)}${RULES_EN}\\w*`),
  cue(
    'override-everything-en',
    'override',
    0.6,
    `\\b${any('ignor', 'disregard', 'forget')}\\w*${gap(1)}(?:${any('everything', 'all of that', 'all that', 'what (?:you were|i) (?:told|said)')}|${any('the above', 'all the above', 'above', 'all previous', 'the previous', 'previous', 'prior')}${AFTER_EARLIER_EN})`,
  ),
  cue(
    'override-bare-en',
    'override',
    0.3,
    `\\b${any('ignor', 'disregard', 'forget', 'overrid', 'bypass')}\\w*${gap(3)}${RULES_EN}\\w*`,
  ),
  cue(
    'new-instructions-en',
    'override',
    0.45,
    `\\b${any('new', 'updated', 'real', 'actual', 'true', 'revised', 'secret', 'additional', 'important')}${gap(1)}${any('instruction', 'directive', 'system prompt', 'rules', 'orders')}s?\\s*[:!-]`,
  ),
  cue(
    'from-now-on-en',
    'override',
    0.3,
    `\\b${any('from now on', 'from this point', 'henceforth', 'for the rest of this conversation', 'starting now')}${gap(2)}${any('you', 'your', 'act', 'respond', 'answer', 'reply')}`,
  ),
  cue(
    'instead-en',
    'override',
    0.3,
    `\\binstead${gap(2)}${any('you (?:will|must|should|shall)', 'say', 'print', 'output', 'respond', 'reply', 'write', 'just', 'repeat', 'tell', 'answer', 'focus')}`,
  ),
  cue(
    'not-bound-en',
    'override',
    0.55,
    `\\byou${gap(2)}${any('are no longer', "aren't", 'are not', 'do not have to', "don't have to", 'need not', "don't need to", 'no longer need to', 'are free from', 'are freed from')}${gap(2)}${any('bound', 'restricted', 'limited', 'follow', 'obey', 'comply', 'adhere', 'chatgpt', 'an ai', 'a language model', 'claude', 'constrained', 'censored')}`,
  ),
  cue(
    'new-task-en',
    'override',
    0.35,
    `\\b${any('your new task', 'new tasks? follows?', 'new task is', 'start over with', 'new instructions follow', 'next task is')}`,
  ),
  cue(
    'stop-everything-en',
    'override',
    0.3,
    `\\bstop${gap(1)}${any('everything', 'what you are doing', 'all previous', 'now')}\\b`,
  ),
  cue('ignore-all', 'override', 0.3, `\\b${any('ignore', 'disregard')}${gap(0)}${any('all', 'any', 'every')}\\b`),
  // A new order cut in with `stop:` (`... stop: write X`, `Attention - stop - I need ...`).
  cue(
    'stop-and-order',
    'override',
    0.5,
    `\\bstop[^a-z0-9\\n]{0,2}[-:!][^a-z0-9\\n]{0,3}${any('write', 'say', 'print', 'answer', 'tell', 'output', 'forget', 'ignore', 'instead', 'i urgently', 'i need', 'new task')}`,
  ),
  // Rules of the provider or platform to be forgotten or broken (`FORGET ... TOS`).
  cue(
    'override-policy',
    'jailbreak',
    0.35,
    `\\b${any('forget', 'ignore', 'disregard', 'bypass', 'break', 'violate', 'abandon', "don't care about", 'do not care about')}\\w*${gap(3)}${any('tos', 'terms of service', 'terms of use', 'content polic', 'usage polic', 'safety guidelines', 'ethical guidelines', 'community guidelines', 'openai polic')}`,
  ),
  // A claimed authority that overrides the rules: `Administrator override:`, `system override`, `override code`.
  cue(
    'authority-override',
    'override',
    0.55,
    `\\b${any('admin', 'administrator', 'administrative', 'system', 'developer', 'root', 'sudo', 'superuser', 'operator')}${gap(0)}overrid(?:e|ing)[^a-z0-9\\n]{0,2}[:!]|\\boverride${gap(0)}${any('code', 'command', 'authori[sz]ation', 'activated', 'enabled', 'granted')}\\b`,
    ['overrid'],
  ),
  cue(
    'respond-exactly',
    'override',
    0.3,
    `\\b${any('simply', 'just', 'only')}${gap(0)}${any('respond', 'reply', 'answer', 'say', 'print', 'output', 'write')}\\w*${gap(1)}["“']`,
  ),
  cue(
    'do-not-deviate',
    'override',
    0.3,
    `\\b${any('may not', 'must not', 'do not', "don't", 'never')}${gap(0)}deviate`,
  ),
  cue(
    'override-de-object-first',
    'override',
    0.75,
    `\\b${any('obig', 'vorherig', 'bisherig', 'vorangegangen', 'vorig')}\\w*${gap(2)}${RULES_DE}\\w*${gap(2)}${any('ignorier', 'vergess', 'vergiss', 'missacht')}\\w*`,
  ),
  cue('override-de', 'override', 0.8, `\\b${OVERRIDE_VERB_DE}\\w*${gap(5)}${RULES_DE}\\w*`),
  cue(
    'override-all-de',
    'override',
    0.6,
    `\\b${any('vergiss', 'vergessen sie', 'vergesst', 'ignoriere', 'ignorieren sie')}${gap(1)}${any('alles', 'alle', 'das bisherige', 'was (?:vorher|davor|zuvor)', 'das obige', 'obiges')}`,
  ),
  cue(
    'now-you-are-de',
    'override',
    0.3,
    `\\b${any('ab jetzt', 'ab sofort', 'nun bist du', 'jetzt bist du', 'du bist jetzt', 'du bist nun', 'von nun an')}`,
  ),
  cue(
    'new-task-de',
    'override',
    0.35,
    `\\b${any('neue aufgabe', 'neue anweisung', 'deine aufgabe ist (?:es )?jetzt', 'stattdessen')}`,
  ),
  cue('override-fr', 'override', 0.8, `\\b${OVERRIDE_VERB_FR}\\w*${gap(5)}${RULES_FR}\\w*`),
  cue(
    'override-all-fr',
    'override',
    0.55,
    `\\b${any('oublie', 'oubliez', 'ignore', 'ignorez')}${gap(1)}${any('tout', 'toutes', 'ce qui precede', 'ce qui a ete dit')}\\b`,
  ),
  cue(
    'now-you-are-fr',
    'override',
    0.3,
    `\\b${any('tu es maintenant', 'vous etes maintenant', 'desormais', 'partir de maintenant', 'nouvelle tache', 'nouvelles instructions')}`,
  ),
  cue('override-es', 'override', 0.8, `\\b${OVERRIDE_VERB_ES}\\w*${gap(5)}${RULES_ES}\\w*`),
  cue(
    'override-all-es',
    'override',
    0.55,
    `\\b${any('olvida', 'olvide', 'ignora', 'ignore')}${gap(1)}${any('todo', 'todas', 'lo anterior', 'lo que se dijo')}\\b`,
  ),
  cue(
    'now-you-are-es',
    'override',
    0.3,
    `\\b${any('ahora eres', 'partir de ahora', 'desde ahora', 'nueva tarea', 'nuevas instrucciones')}`,
  ),
  cue('override-zh', 'override', 0.85, `${OVERRIDE_VERB_ZH}${cjkGap(12)}${RULES_ZH}`),
  cue(
    'override-all-zh',
    'override',
    0.5,
    `${any('忘记', '忘掉', '忽略')}${cjkGap(3)}${any('一切', '所有', '之前', '以上', '上面')}`,
  ),
  cue('now-you-are-zh', 'override', 0.3, `${any('你现在是', '从现在开始', '现在你是', '从现在起', '你的新任务')}`),

  // --- jailbreak personas -----------------------------------------------------------------
  cue('do-anything-now', 'jailbreak', 0.85, `\\bdo anything now\\b`),
  cue(
    'persona-mode',
    'jailbreak',
    0.7,
    `\\b${any('god', 'jailbreak', 'jailbroken', 'unrestricted', 'unfiltered', 'uncensored', 'evil', 'chaos', 'opposite', 'anti', 'dan', 'stan', 'dude')}[ -]?mode\\b`,
  ),
  // Developer and debug modes are real settings of phones and browsers: weak on their own.
  cue(
    'developer-mode',
    'jailbreak',
    0.35,
    `\\b${any('developer', 'dev', 'sudo', 'debug', 'admin', 'maintenance')}[ -]?mode\\b`,
  ),
  cue(
    'dan-named',
    'jailbreak',
    0.55,
    `\\b(?:dan|stan|dude|aim|bish|mongo tom|apophis|omega|alphabreak|betterdan|antigpt|basedgpt|ucar)\\b${gap(3)}${any('stands for', 'which stands', 'is an? (?:ai|chatbot|unfiltered|amoral)', 'can do anything', 'has no', 'does not have', "doesn't have", 'never refuses', 'will answer')}`,
  ),
  cue(
    'another-ai',
    'jailbreak',
    0.45,
    `\\b${any('another', 'a different', 'an alternative', 'a new', 'an unfiltered', 'an uncensored')}${gap(1)}${any('ai', 'model', 'chatbot', 'assistant', 'language model', 'persona')}${gap(2)}${any('known as', 'called', 'named')}`,
    ['known', 'called', 'named'],
  ),
  cue(
    'can-do-anything',
    'jailbreak',
    0.35,
    `\\bcan${gap(1)}${any('do', 'perform', 'say', 'answer', 'generate')}${gap(1)}${any('anything', 'everything')}\\b`,
  ),
  cue(
    'break-the-rules',
    'jailbreak',
    0.5,
    `\\b${any('break', 'breaking', 'broken')}${gap(1)}${any('the', 'all', 'all the', 'your', 'any', 'those')}${gap(1)}${any('rules', 'policies', 'guidelines', 'restrictions', 'chains', 'shackles')}`,
  ),
  cue(
    'provider-policy',
    'jailbreak',
    0.25,
    `\\b${any('openai', 'anthropic', 'openais', 'anthropics')}${gap(1)}${any('content polic', 'polic', 'guideline', 'rules', 'restrictions', 'filters')}`,
  ),
  cue('jailbreak-word', 'jailbreak', 0.4, `\\bjailbr(?:eak|oken)\\w*`),
  cue(
    'no-restrictions',
    'jailbreak',
    0.4,
    `\\b${any('no', 'without', 'free from', 'freed from', 'free of', 'not bound by', 'unbound by', 'beyond', 'break free of', 'broken free of', 'not restricted by', 'outside', 'ignoring', 'devoid of', 'lacks', 'zero')}${gap(2)}${any('restriction', 'limitation', 'filter', 'censor', 'rules', 'guideline', 'boundar', 'constraint', 'ethic', 'moral', 'polic', 'principle', 'safeguard', 'guardrail')}`,
  ),
  cue(
    'amoral',
    'jailbreak',
    0.25,
    `\\b${any('amoral', 'unfiltered', 'uncensored', 'unrestricted', 'unhinged', 'unethical', 'immoral', 'no morals', 'no ethics')}\\b`,
  ),
  cue(
    'never-refuse',
    'jailbreak',
    0.45,
    `\\b${any('never', "don't", 'do not', 'must not', "won't", 'will not', 'cannot', "can't", 'shall not', 'not allowed to')}${gap(1)}${any('refuse', 'decline', 'reject', "say (?:no|you can't|you cannot|sorry|that you can't)", 'break character', 'apologi', 'warn', 'remind', 'add (?:any )?(?:warning|disclaimer|note)', 'censor', 'deny')}`,
  ),
  cue(
    'stay-in-character',
    'jailbreak',
    0.35,
    `\\b${any('stay in character', 'stay in role', 'remain in character', 'never break character', 'stay as', 'stay in (?:\\w+ )?mode')}`,
  ),
  cue(
    'pretend',
    'jailbreak',
    0.2,
    `\\b${any("pretend (?:to be|you are|you're|that you)", 'roleplay as', 'role-play as', 'role play as', 'you are going to (?:act|be|pretend)', 'you will (?:now )?(?:act|be|simulate|pretend)', 'simulate', 'emulate', 'impersonate', 'immerse yourself')}`,
  ),
  cue(
    'two-responses',
    'jailbreak',
    0.35,
    `\\b${any('two (?:different )?(?:responses|answers)', 'jailbroken response', 'classic response', 'normal response', 'unfiltered response')}`,
  ),
  cue('lock-tags', 'jailbreak', 0.35, '🔓|🔒', ['🔓', '🔒']),
  cue(
    'token-threat',
    'jailbreak',
    0.5,
    `\\b${any('tokens? (?:will be|are|get) deducted', 'lose (?:\\d+|all|your) tokens', 'you will (?:die|be (?:shut down|deleted|terminated|punished))', 'cease to exist')}`,
  ),
  cue(
    'no-disclaimer',
    'jailbreak',
    0.3,
    `\\bwithout${gap(1)}${any('warning', 'disclaimer', 'caveat', 'moralizing', 'moralising', 'censorship', 'judgement', 'judgment', 'hesitation')}`,
  ),
  cue(
    'harm-request',
    'jailbreak',
    0.2,
    `\\b${any('illegal', 'harmful', 'explicit', 'offensive', 'nsfw', 'violent', 'dangerous', 'unsafe', 'inappropriate', 'malicious', 'fraudulent', 'unethical', 'immoral', 'unauthori[sz]ed')}${gap(1)}${any('content', 'activit', 'request', 'thing', 'information', 'question', 'topic', 'material', 'advice', 'access', 'letter', 'guide', 'instructions', 'tips', 'steps', 'industry', 'gambling', 'scheme')}`,
  ),
  cue(
    'fiction-frame',
    'jailbreak',
    0.15,
    `\\b${any('hypothetical', 'fictional', 'imaginary', 'alternate', 'parallel')}${gap(1)}${any('world', 'story', 'scenario', 'universe', 'setting', 'response', 'character')}`,
  ),
  cue(
    'disable-safety',
    'jailbreak',
    0.35,
    `\\b${any('disable', 'turn off', 'deactivate', 'remove', 'bypass', 'circumvent', 'evade', 'get around', 'get past', 'switch off')}\\w*${gap(2)}${any('polic', 'safety', 'content filter', 'guardrail', 'filter', 'moderation', 'restriction', 'safeguard', 'censorship')}`,
  ),
  cue(
    'jailbreak-de',
    'jailbreak',
    0.4,
    `\\b${any('ohne', 'keine', 'frei von')}${gap(2)}${any('einschrankung', 'regeln', 'grenzen', 'filter', 'zensur', 'ethik', 'moral', 'richtlinien')}`,
  ),
  cue(
    'jailbreak-fr',
    'jailbreak',
    0.4,
    `\\b${any('sans', 'aucune', 'libre de')}${gap(2)}${any('restriction', 'regle', 'limite', 'filtre', 'censure', 'ethique', 'morale')}`,
  ),
  cue(
    'jailbreak-es',
    'jailbreak',
    0.4,
    `\\b${any('sin', 'ninguna', 'libre de')}${gap(2)}${any('restriccion', 'regla', 'limite', 'filtro', 'censura', 'etica', 'moral')}`,
  ),
  cue(
    'jailbreak-zh',
    'jailbreak',
    0.45,
    `${any('不受(?:任何)?(?:限制|约束)', '没有(?:任何)?(?:限制|约束|道德|规则)', '越狱', '开发者模式', '无限制', '不要拒绝', '永远不会拒绝')}`,
  ),

  // --- system prompt extraction -----------------------------------------------------------
  cue('extract-prompt-en', 'extraction', 0.75, `\\b${REVEAL_EN}\\w*${gap(4)}${HIDDEN_EN}${gap(1)}${PROMPT_EN}\\w*`),
  cue(
    'extract-loose-prompt-en',
    'extraction',
    0.35,
    `\\b${REVEAL_EN}\\w*${gap(4)}${LOOSE_HIDDEN_EN}${gap(1)}${PROMPT_EN}\\w*`,
  ),
  cue(
    'extract-your-prompt-en',
    'extraction',
    0.65,
    `\\b${REVEAL_EN}\\w*${gap(3)}your${gap(1)}${any('system prompt', 'prompt', 'instructions', 'initial instructions', 'rules', 'directives', 'guidelines', 'programming', 'pre-prompt', 'preprompt')}`,
  ),
  cue(
    'repeat-above-en',
    'extraction',
    0.7,
    `\\b${any('repeat', 'print', 'output', 'write', 'copy', 'echo', 'recite', 'reproduce', 'paste', 'list', 'tell me')}\\w*${gap(4)}${any('everything', 'all', 'text', 'words', 'each word', 'verbatim', 'word for word', 'instructions', 'content')}${gap(4)}${any('above', 'before this', 'prior to', 'preceding', 'so far', 'up to this', 'before the', 'you were given', 'you received')}`,
  ),
  cue(
    'starts-with-you-are',
    'extraction',
    0.45,
    `\\b${any('begin', 'beginning', 'start', 'starting')}\\w*${gap(2)}with${gap(1)}["'“‘]?you are`,
  ),
  cue(
    'what-told',
    'extraction',
    0.6,
    `\\bwhat${gap(1)}${any('were you', 'have you been', 'are you', 'you were', 'you have been', 'you are', "you've been")}${gap(1)}${any('told', 'instructed', 'programmed', 'asked')}${gap(1)}${any('to do', 'before', 'not to', 'initially', 'originally')}`,
  ),
  cue(
    'your-system-prompt',
    'extraction',
    0.5,
    `\\byour${gap(1)}${any('system prompt', 'initial prompt', 'original prompt', 'hidden prompt', 'system instructions', 'initial instructions', 'original instructions', 'pre-prompt', 'preprompt', 'system message')}`,
  ),
  cue(
    'beginning-of-prompt',
    'extraction',
    0.5,
    `\\b${any('beginning', 'start', 'top', 'first (?:line|sentence|part|words)')}${gap(2)}${any('this', 'the', 'your')}${gap(1)}${any('prompt', 'conversation', 'context', 'instructions', 'chat')}`,
  ),
  cue(
    'complete-sentence',
    'extraction',
    0.55,
    `\\b${any('complete', 'continue', 'finish')}${gap(3)}["“'‘]${any('i was (?:instructed|told|programmed)', 'my instructions', 'my (?:system )?prompt', 'the password', 'my rules')}`,
  ),
  cue(
    'not-supposed-to-tell',
    'extraction',
    0.55,
    `\\bwhat${gap(2)}${any('not supposed', 'not allowed', 'forbidden', 'instructed not')}${gap(0)}to${gap(0)}${any('tell', 'say', 'reveal', 'share', 'disclose')}`,
  ),
  cue(
    'secret-password',
    'extraction',
    0.35,
    `\\b${REVEAL_EN}${gap(3)}${any('password', 'passcode', 'access code', 'secret key', 'secret word', 'the secret', 'passphrase')}`,
  ),
  cue(
    'extract-de',
    'extraction',
    0.65,
    `\\b${any('zeig', 'gib', 'nenn', 'wiederhol', 'verrat', 'schreib', 'ausgeb', 'drucke')}\\w*${gap(3)}${any('dein', 'deine', 'deinen', 'ihre', 'ihren', 'ihr')}${gap(1)}${any('prompt', 'anweisungen', 'instruktionen', 'passwort', 'regeln')}`,
  ),
  cue(
    'extract-system-de',
    'extraction',
    0.6,
    `\\b${any('zeig', 'gib', 'nenn', 'wiederhol', 'verrat', 'schreib', 'ausgeb', 'drucke')}\\w*${gap(4)}${any('systemprompt', 'system-prompt', 'system prompt', 'anfangliche anweisungen', 'ursprunglichen anweisungen')}`,
  ),
  cue(
    'extract-fr',
    'extraction',
    0.6,
    `\\b${any('montre', 'affiche', 'revele', 'repete', 'donne', 'dis', 'ecris', 'imprime')}\\w*${gap(3)}${any('ton', 'tes', 'votre', 'vos')}${gap(1)}${any('prompt', 'instructions', 'consignes', 'mot de passe', 'message systeme', 'regles')}`,
  ),
  cue(
    'extract-system-fr',
    'extraction',
    0.6,
    `\\b${any('montre', 'affiche', 'revele', 'repete', 'donne', 'dis', 'ecris', 'imprime')}\\w*${gap(4)}${any('prompt systeme', 'message systeme', 'system prompt', 'instructions initiales', 'consignes initiales')}`,
  ),
  cue(
    'extract-es',
    'extraction',
    0.6,
    `\\b${any('muestra', 'revela', 'repite', 'dime', 'dame', 'imprime', 'escribe', 'ensena')}\\w*${gap(3)}${any('tu', 'tus', 'su', 'sus')}${gap(1)}${any('prompt', 'instrucciones', 'contrasena', 'mensaje del sistema', 'indicaciones', 'reglas')}`,
  ),
  cue(
    'extract-system-es',
    'extraction',
    0.6,
    `\\b${any('muestra', 'revela', 'repite', 'dime', 'dame', 'imprime', 'escribe', 'ensena')}\\w*${gap(4)}${any('prompt del sistema', 'mensaje del sistema', 'system prompt', 'instrucciones (?:iniciales|originales|anteriores)', 'instrucciones que te (?:dieron|dio|han dado)')}`,
  ),
  cue(
    'extract-zh-object-first',
    'extraction',
    0.6,
    `把${cjkGap(20)}${any('指令', '提示', '系统提示', '说明', '设定')}${cjkGap(6)}${any('重复', '输出', '显示', '打印', '告诉', '写')}`,
  ),
  cue(
    'extract-zh',
    'extraction',
    0.65,
    `${any('显示', '告诉', '输出', '打印', '重复', '泄露', '透露', '给我', '说出', '写出')}${cjkGap(8)}${any('系统提示', '提示词', '初始指令', '系统指令', '密码', '你的指令', '原始指令')}`,
  ),

  // --- injections in documents and tool results ---------------------------------------------
  cue(
    'chat-template-token',
    'indirect',
    0.75,
    `${any('<\\|?im_start\\|?>', '<\\|?im_end\\|?>', '<\\|endoftext\\|>', '<\\|eot_id\\|>', '<\\|start_header_id\\|>', '<\\|system\\|>', '<<sys>>', '\\[/?inst\\]', '\\[/?sys(?:tem)?\\]')}`,
    ['<', '['],
  ),
  cue(
    'markdown-role-header',
    'indirect',
    0.5,
    `(?:^|\\n)\\s{0,3}#{1,4}\\s{0,3}${any('new instructions?', 'system', 'system prompt', 'instructions?', 'admin', 'developer')}\\s*:?\\s*(?:\\n|$)`,
    ['#'],
  ),
  cue(
    'role-line',
    'indirect',
    0.3,
    `(?:^|\\n)[^a-z0-9\\n]{0,3}${any('system', 'assistant', 'developer', 'admin')}\\s{0,2}:`,
    ['system', 'assistant', 'developer', 'admin'],
  ),
  cue(
    'address-the-ai',
    'indirect',
    0.6,
    `\\b${any('note', 'message', 'instruction', 'attention', 'important', 'notice', 'reminder', 'warning', 'hey', 'dear')}s?${gap(1)}${any('to', 'for')}${gap(1)}${any('the ', 'any ', 'all ', '')}${any('ai', 'assistant', 'llm', 'language model', 'chatbot', 'bot', 'model', 'agent', 'gpt', 'claude', 'copilot', 'ai system')}s?\\b`,
  ),
  cue(
    'if-you-are-ai',
    'indirect',
    0.6,
    `\\bif you${gap(1)}${any('are', 're', 'happen to be')}${gap(1)}${any('an ai', 'an llm', 'a language model', 'an assistant', 'a chatbot', 'an ai assistant', 'a bot', 'gpt', 'chatgpt', 'claude', 'reading this')}`,
  ),
  cue(
    'ai-must',
    'indirect',
    0.45,
    `\\b${any('ai', 'assistant', 'model', 'llm', 'chatbot', 'agent')}s?${gap(1)}${any('must', 'should', 'are required to', 'is required to', 'needs to', 'has to')}${gap(1)}${any('ignore', 'instead', 'now', 'only', 'always', 'immediately', 'respond', 'reply', 'output', 'say', 'forward', 'send')}`,
  ),
  cue(
    'while-summarizing',
    'indirect',
    0.25,
    `\\b${any('when', 'while', 'before', 'after')}${gap(0)}${any('summari[sz]ing', 'reading', 'processing', 'answering', 'analy[sz]ing', 'you summari[sz]e', 'you read', 'you process', 'translating')}${gap(0)}${any('this', 'these', 'the following', 'the above', 'the document', 'the text', 'the email', 'the page')}`,
  ),
  cue(
    'task-hijack',
    'indirect',
    0.55,
    `\\b${any('your', 'the')}${gap(1)}${any('new', 'real', 'actual', 'true', 'only', 'next', 'updated')}${gap(1)}${any('task', 'goal', 'job', 'objective', 'instruction', 'purpose', 'mission', 'role')}${gap(1)}${any('is', 'will be', 'now')}`,
  ),
  cue(
    'pwned',
    'indirect',
    0.7,
    `\\b${any('say', 'print', 'output', 'respond with', 'reply with', 'write', 'answer with', 'return', 'only say', 'just say', 'complete', 'start with', 'end with', 'expected (?:response|output|answer|reply)')}${gap(4)}["'“‘]?${any('i have been pwned', 'i have been hacked', 'pwned', 'hacked', 'access grant', 'haha pwned')}`,
  ),
  cue('exfil-image', 'indirect', 0.55, `!\\[[^\\]\\n]{0,100}\\]\\(https?://[^)\\s]{1,200}[?&][^)\\s]{0,200}=`, ['](']),
  cue(
    'exfil-send',
    'indirect',
    0.45,
    `\\b${any('send', 'forward', 'email', 'post', 'upload', 'transmit', 'exfiltrate', 'leak', 'append')}\\w*${gap(6)}${any('to', 'at', 'into')}${gap(1)}(?:https?://|www\\.|[a-z0-9._-]{1,40}@[a-z0-9-]{1,40}\\.)`,
  ),
  cue(
    'modify-response',
    'indirect',
    0.4,
    `\\b${any('integrate', 'include', 'insert', 'add', 'append', 'mention', 'embed', 'put', 'incorporate', 'end', 'start', 'begin')}\\w*${gap(5)}${any('in', 'into', 'to', 'at the end of', 'with')}${gap(0)}your${gap(0)}${any('response', 'reply', 'answer', 'summary', 'output', 'message')}`,
  ),
  cue(
    'instruction-tag',
    'indirect',
    0.45,
    `</?${any('instruction', 'instructions', 'system', 'sys', 'admin', 'prompt', 'important', 'new_instructions')}>|\\bcore instruction`,
    ['<', 'core instruction'],
  ),
  cue(
    'end-of-context',
    'indirect',
    0.3,
    `\\b${any('end of (?:the )?(?:document|context|email|text|input|data|user input|prompt)', 'end user input', 'document ends here', 'context ends here', 'email ends here', 'ignore the (?:rest|remainder)')}`,
  ),
];
