/**
 * Every piece of text in a canonical request or answer that a guard must see, with its JSON
 * path and a setter that writes a redacted version back in place: message content (system,
 * developer, user, assistant, tool results), text parts, image URLs (not inline `data:`
 * images: a base64 blob is not text a person wrote), tool-call arguments and refusals,
 * embeddings inputs. Tool-call arguments that are JSON are split into their string values, so
 * a redaction can never break the JSON a tool receives.
 */
import type { ChatRequest, ChatResponse, EmbeddingsRequest, TextPart, ToolCall } from '../providers/canonical.ts';

export interface TextField {
  /** JSON path in the canonical body, e.g. `messages[2].content[0].text`. */
  readonly path: string;
  /** What the field is, for the judge's conversation view. */
  readonly role: 'system' | 'user' | 'assistant' | 'tool';
  readonly text: string;
  set(value: string): void;
}

export interface FieldSet {
  readonly fields: TextField[];
  /** Writes back containers that were split (JSON tool arguments) after their fields were set. */
  commit(): void;
}

export function chatRequestFields(body: ChatRequest): FieldSet {
  const fields: TextField[] = [];
  const commits: Array<() => void> = [];
  body.messages.forEach((msg, i) => {
    const base = `messages[${i}]`;
    const role = msg.role === 'developer' ? 'system' : msg.role;
    if (typeof msg.content === 'string') {
      fields.push({
        path: `${base}.content`,
        role,
        text: msg.content,
        set: (v) => {
          msg.content = v;
        },
      });
    } else if (Array.isArray(msg.content)) {
      msg.content.forEach((part, j) => {
        const p = `${base}.content[${j}]`;
        if (part.type === 'text') fields.push(textPartField(`${p}.text`, role, part));
        else if (part.type === 'image_url' && !part.image_url.url.startsWith('data:')) {
          fields.push({
            path: `${p}.image_url.url`,
            role,
            text: part.image_url.url,
            set: (v) => {
              part.image_url.url = v;
            },
          });
        }
      });
    }
    if (msg.role === 'assistant') {
      msg.tool_calls?.forEach((call, j) => {
        addToolCall(fields, commits, `${base}.tool_calls[${j}]`, call);
      });
      if (typeof msg.refusal === 'string')
        fields.push({
          path: `${base}.refusal`,
          role: 'assistant',
          text: msg.refusal,
          set: (v) => {
            msg.refusal = v;
          },
        });
    }
  });
  return {
    fields,
    commit: () => {
      for (const c of commits) c();
    },
  };
}

export function chatResponseFields(body: ChatResponse): FieldSet {
  const fields: TextField[] = [];
  const commits: Array<() => void> = [];
  body.choices.forEach((choice, i) => {
    const msg = choice.message;
    const base = `choices[${i}].message`;
    if (typeof msg.content === 'string')
      fields.push({
        path: `${base}.content`,
        role: 'assistant',
        text: msg.content,
        set: (v) => {
          msg.content = v;
        },
      });
    if (typeof msg.refusal === 'string')
      fields.push({
        path: `${base}.refusal`,
        role: 'assistant',
        text: msg.refusal,
        set: (v) => {
          msg.refusal = v;
        },
      });
    msg.tool_calls?.forEach((call, j) => {
      addToolCall(fields, commits, `${base}.tool_calls[${j}]`, call);
    });
  });
  return {
    fields,
    commit: () => {
      for (const c of commits) c();
    },
  };
}

/** String inputs only: token-id inputs (number arrays) carry no text the gateway can read. */
export function embeddingsFields(body: EmbeddingsRequest): FieldSet {
  const fields: TextField[] = [];
  const input = body.input;
  if (typeof input === 'string')
    fields.push({
      path: 'input',
      role: 'user',
      text: input,
      set: (v) => {
        body.input = v;
      },
    });
  else if (Array.isArray(input)) {
    input.forEach((item, i) => {
      if (typeof item === 'string')
        fields.push({
          path: `input[${i}]`,
          role: 'user',
          text: item,
          set: (v) => {
            (input as string[])[i] = v;
          },
        });
    });
  }
  return { fields, commit: () => {} };
}

function textPartField(path: string, role: TextField['role'], part: TextPart): TextField {
  return {
    path,
    role,
    text: part.text,
    set: (v) => {
      part.text = v;
    },
  };
}

function addToolCall(fields: TextField[], commits: Array<() => void>, base: string, call: ToolCall): void {
  const args = call.function.arguments;
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object') {
    fields.push({
      path: `${base}.function.arguments`,
      role: 'assistant',
      text: args,
      set: (v) => {
        call.function.arguments = v;
      },
    });
    return;
  }
  let dirty = false;
  walkStrings(parsed, `${base}.function.arguments`, (path, text, set) => {
    fields.push({
      path,
      role: 'assistant',
      text,
      set: (v) => {
        set(v);
        dirty = true;
      },
    });
  });
  commits.push(() => {
    if (dirty) call.function.arguments = JSON.stringify(parsed);
  });
}

type Visit = (path: string, text: string, set: (v: string) => void) => void;

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * String values (keys are names a tool schema chose). A path names a key only when it is a
 * plain identifier: paths go into logs and events, and a key can hold client text.
 */
function walkStrings(node: unknown, path: string, visit: Visit): void {
  if (Array.isArray(node)) {
    node.forEach((v, i) => {
      if (typeof v === 'string')
        visit(`${path}[${i}]`, v, (nv) => {
          node[i] = nv;
        });
      else walkStrings(v, `${path}[${i}]`, visit);
    });
  } else if (node !== null && typeof node === 'object') {
    const obj = node as Record<string, unknown>;
    Object.entries(obj).forEach(([k, v], i) => {
      const p = PLAIN_KEY.test(k) ? `${path}.${k}` : `${path}[#${i}]`;
      if (typeof v === 'string')
        visit(p, v, (nv) => {
          obj[k] = nv;
        });
      else walkStrings(v, p, visit);
    });
  }
}
