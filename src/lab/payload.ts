/**
 * The JSON a function reads from a `json`/`jsonb` argument, learned from its body: the keys it
 * takes (`p->>'clinic_id'`), the objects and arrays under them (`p->'items'`, looped over with
 * `jsonb_array_elements` or `jsonb_to_recordset`, directly or through a variable), and the type
 * each key is cast to or stored in. The lab fills such a payload as it fills plain arguments (a
 * key named after a table takes the key of a row there), so a SECURITY DEFINER function that
 * takes its ids inside a payload is called with the caller's ids, the victim's, and the caller's
 * with one of the victim's — an item of another tenant inside an invoice of one's own.
 */
import { literalPattern } from '../model/sql-text.ts';

export interface JsonShape {
  fields: Map<string, JsonField>;
  /** The payload itself is an array of such objects (`for v in select * from jsonb_array_elements(p_items)`): at the top only. */
  array?: boolean;
}

export interface JsonField {
  /** What the value is cast to or stored in (`uuid`, `numeric`), or null where the body does not say. */
  type: string | null;
  /** Read through `nullif(…)`/`coalesce(…)`: the body takes its absence. */
  optional?: boolean;
  /** The object under the key, or each element's where `array`. */
  of?: JsonShape;
  array?: boolean;
}

/** A leaf of a payload: its path (`items[].item_id`), its key and its type. */
export interface JsonLeaf {
  path: string;
  key: string;
  type: string | null;
  optional?: boolean;
}

/** How deep a payload is followed, and how many rounds variables are traced through. */
const MAX_DEPTH = 4;
const ROUNDS = 4;

const KEY = `'((?:[^']|'')+)'`;
const ARRAY_FUNCTIONS = 'jsonb?_array_elements|jsonb?_to_recordset|jsonb?_array_length';

/** The payload `arg` is read as in `body`, or undefined where the body reads no key of it. */
export function jsonShape(body: string | null, arg: string): JsonShape | undefined {
  if (!body || arg === '') return undefined;
  const root: JsonShape = { fields: new Map() };
  // Every name that stands for a node: the argument, and the variables and aliases that hold a part of it.
  const names = new Map<string, { shape: JsonShape; depth: number }>([[arg.toLowerCase(), { shape: root, depth: 0 }]]);
  const declared = declaredTypes(body);
  for (let round = 0; round < ROUNDS; round++) {
    const before = names.size;
    for (const [name, { shape, depth }] of [...names]) {
      const at = `(?<![\\w$.])"?${literalPattern(name)}"?(?:\\.value)?`;
      // A chain of keys from this name: `name->'a'->>'b'`, `name->>'b'`.
      const chain = new RegExp(`${at}((?:\\s*->>?\\s*${KEY})+)`, 'gi');
      for (const m of body.matchAll(chain)) {
        const steps = [...m[1]!.matchAll(new RegExp(`(->>?)\\s*${KEY}`, 'g'))].map((s) => ({ text: s[1] === '->>', key: s[2]!.replaceAll("''", "'") }));
        let node = shape;
        let d = depth;
        for (const [i, step] of steps.entries()) {
          const last = i === steps.length - 1;
          if (step.text || d >= MAX_DEPTH) {
            // A leaf: its type from a cast right after it, or the variable it is stored in.
            if (!node.fields.has(step.key) || node.fields.get(step.key)!.type === null) {
              const optional = /(?:nullif|coalesce)\s*\(\s*\(?\s*$/i.test(body.slice(Math.max(0, m.index! - 30), m.index!));
              node.fields.set(step.key, { type: last ? leafType(body, m.index! + m[0].length, body.slice(0, m.index!), declared) : null, ...(optional ? { optional } : {}) });
            }
            break;
          }
          const field: JsonField = node.fields.get(step.key) ?? { type: null, of: { fields: new Map() } };
          field.of ??= { fields: new Map() };
          node.fields.set(step.key, field);
          if (last) {
            const before = body.slice(Math.max(0, m.index! - 120), m.index!);
            const after = body.slice(m.index! + m[0].length, m.index! + m[0].length + 200);
            if (new RegExp(`(?:${ARRAY_FUNCTIONS})\\s*\\(\\s*$`, 'i').test(before)) {
              field.array = true;
              elementAlias(after, field.of, names, d + 1);
              // `for v_line in select * from jsonb_array_elements(p->'lines')`: the loop variable holds an element.
              const loopVar = new RegExp(`\\bfor\\s+([A-Za-z_][\\w$]*)\\s+in\\s+select\\s+(?:\\*|value)\\s+from\\s+(?:${ARRAY_FUNCTIONS})\\s*\\(\\s*$`, 'i').exec(before)?.[1];
              if (loopVar && !names.has(loopVar.toLowerCase())) names.set(loopVar.toLowerCase(), { shape: field.of, depth: d + 1 });
            }
            // Held in a variable (`v_items := p->'items'`, `select p->'items' into v_items`).
            const held = /(?:([A-Za-z_][\w$]*)\s*:=\s*\(?\s*$)/.exec(body.slice(Math.max(0, m.index! - 60), m.index!))?.[1] ?? /^\s*\)?\s*into\s+([A-Za-z_][\w$]*)/i.exec(after)?.[1];
            if (held && !names.has(held.toLowerCase())) names.set(held.toLowerCase(), { shape: field.of, depth: d + 1 });
          }
          node = field.of;
          d++;
        }
      }
      // The name itself looped over or counted as an array: it is one (its keys are its elements').
      const iterated = new RegExp(`(?:${ARRAY_FUNCTIONS})\\s*\\(\\s*${at}\\s*\\)`, 'gi');
      for (const m of body.matchAll(iterated)) {
        arrays.add(shape);
        elementAlias(body.slice(m.index! + m[0].length, m.index! + m[0].length + 200), shape, names, depth + 1, name);
      }
      // The loop variable of `for x in select * from jsonb_array_elements(name)` holds an element.
      const loop = new RegExp(`\\bfor\\s+([A-Za-z_][\\w$]*)\\s+in\\s+select\\s+(?:\\*|value)\\s+from\\s+(?:${ARRAY_FUNCTIONS})\\s*\\(\\s*${at}\\s*\\)`, 'gi');
      for (const m of body.matchAll(loop)) {
        arrays.add(shape);
        const v = m[1]!.toLowerCase();
        if (!names.has(v)) names.set(v, { shape, depth: depth + 1 });
      }
    }
    if (names.size === before) break;
  }
  markArrays(root, names, body);
  if (arrays.has(root)) root.array = true;
  return root.fields.size > 0 ? root : undefined;
}

/** Nodes that are arrays of the shape they hold: the loops above mark the element's shape. */
const arrays = new WeakSet<JsonShape>();

/** `jsonb_array_elements(x) as e` / `jsonb_to_recordset(x) as e(a uuid, b int)`: what names an element, and its typed columns. */
function elementAlias(after: string, element: JsonShape, names: Map<string, { shape: JsonShape; depth: number }>, depth: number, self?: string): void {
  const m = /^\s*\)?\s*(?:with\s+ordinality\s+)?(?:as\s+)?([A-Za-z_][\w$]*)\s*(?:\(([^)]*)\))?/i.exec(after);
  if (!m || /^(where|loop|then|and|or|on|join|limit|order|group|into|union|cross|left|inner)$/i.test(m[1]!)) return;
  const alias = m[1]!.toLowerCase();
  if (m[2] !== undefined) {
    for (const column of m[2].split(',')) {
      const [name, ...type] = column.trim().split(/\s+/);
      if (name && type.length > 0 && !element.fields.has(name.replace(/"/g, ''))) element.fields.set(name.replace(/"/g, ''), { type: type.join(' ').toLowerCase() });
    }
  }
  if (alias !== self && !names.has(alias)) names.set(alias, { shape: element, depth });
}

/** A node another node is the element of is an array: set the flag on the field that holds it. */
function markArrays(shape: JsonShape, names: Map<string, { shape: JsonShape; depth: number }>, body: string): void {
  for (const field of shape.fields.values()) {
    if (!field.of) continue;
    if (arrays.has(field.of) || (!field.array && /jsonb?_typeof/i.test(body) && isCheckedArray(body, field, names))) field.array = true;
    markArrays(field.of, names, body);
  }
}

/** `jsonb_typeof(v) <> 'array'` or `= 'array'` on a name that holds this field's node. */
function isCheckedArray(body: string, field: JsonField, names: Map<string, { shape: JsonShape; depth: number }>): boolean {
  for (const [name, { shape }] of names) {
    if (shape !== field.of) continue;
    if (new RegExp(`jsonb?_typeof\\s*\\(\\s*"?${literalPattern(name)}"?\\s*\\)\\s*(?:=|<>|!=)\\s*'array'`, 'i').test(body)) return true;
  }
  return false;
}

/** The type a key's text is cast to right after it (`(p->>'id')::uuid`, `nullif(p->>'id','')::uuid`), or of the variable it is stored in. */
function leafType(body: string, end: number, before: string, declared: ReadonlyMap<string, string>): string | null {
  const cast = /^\s*\)?\s*(?:,\s*'[^']*'\s*\)\s*)?::\s*([A-Za-z_][\w.]*(?:\s+precision)?(?:\[\])?)/i.exec(body.slice(end, end + 80));
  if (cast) return cast[1]!.toLowerCase().replace(/^pg_catalog\./, '');
  const asCast = /^\s*(?:,\s*'[^']*'\s*\)\s*)?\s+as\s+([A-Za-z_][\w.]*)\s*\)/i.exec(body.slice(end, end + 80));
  if (asCast && /cast\s*\(\s*(?:nullif\s*\(\s*)?[^()]*$/i.test(before.slice(-80))) return asCast[1]!.toLowerCase();
  const held = /([A-Za-z_][\w$]*)\s*:=\s*(?:\(\s*|nullif\s*\(\s*|coalesce\s*\(\s*|trim\s*\(\s*)*[^;:=]{0,40}$/i.exec(before.slice(-80));
  return held ? (declared.get(held[1]!.toLowerCase()) ?? null) : null;
}

/** The variables a PL/pgSQL `DECLARE` section gives a type (`v_item_id uuid;`, `v_qty numeric(14,4) := 0;`). */
function declaredTypes(body: string): Map<string, string> {
  const out = new Map<string, string>();
  const declare = /\bdeclare\b([\s\S]*?)\bbegin\b/i.exec(body)?.[1] ?? '';
  for (const m of declare.matchAll(/^\s*([A-Za-z_][\w$]*)\s+(?:constant\s+)?([A-Za-z_][\w.]*(?:\s+precision|\s+varying)?)(?:\s*\([\d,\s]*\))?(?:\[\])?\s*(?:not\s+null\s*)?(?:;|:=|=|default\b)/gim)) {
    out.set(m[1]!.toLowerCase(), m[2]!.toLowerCase());
  }
  return out;
}

/** The leaves of a payload, in the order the body reads them: the keys set one by one. */
export function jsonLeaves(shape: JsonShape, prefix = shape.array ? '[].' : ''): JsonLeaf[] {
  return [...shape.fields].flatMap(([key, field]) => {
    const path = `${prefix}${key}`;
    return field.of && field.of.fields.size > 0 ? jsonLeaves(field.of, `${path}${field.array ? '[]' : ''}.`) : field.of ? [] : [{ path, key, type: field.type, ...(field.optional ? { optional: true } : {}) }];
  });
}

/** A payload of the shape, each leaf from `leaf` (null leaves left out); each array one element long. */
export function jsonValue(shape: JsonShape, leaf: (l: JsonLeaf) => string | null): string {
  const build = (node: JsonShape, prefix: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [key, field] of node.fields) {
      const path = `${prefix}${key}`;
      if (field.of && field.of.fields.size > 0) {
        const inner = build(field.of, `${path}${field.array ? '[]' : ''}.`);
        out[key] = field.array ? [inner] : inner;
      } else if (field.of) {
        out[key] = field.array ? [] : {};
      } else {
        const v = leaf({ path, key, type: field.type, ...(field.optional ? { optional: true } : {}) });
        if (v === null) continue;
        out[key] = field.type !== null && /^(smallint|integer|int|int2|int4|int8|bigint|numeric|real|double precision|decimal|float\d?)$/.test(field.type) && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : field.type === 'boolean' && /^(true|false)$/.test(v) ? v === 'true' : v;
      }
    }
    return out;
  };
  const top = build(shape, shape.array ? '[].' : '');
  return JSON.stringify(shape.array ? [top] : top);
}
