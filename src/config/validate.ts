import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { UserError } from '../model/errors.ts';
import { BASELINE_SCHEMA, CONFIG_SCHEMA, IGNORE_SCHEMA } from './schema.ts';

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
// `$schema` inside the schemas is the draft marker for editors; Ajv knows draft-07 already.
const compiled = new Map<object, ValidateFunction>();

function validator(schema: object): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** `/levels/foo` → `levels.foo`; `/0/reason` → `entry 1, reason`. */
function where(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
  if (extra !== undefined) parts.push(extra);
  let entry = '';
  if (parts.length > 0 && /^\d+$/.test(parts[0]!)) entry = `entry ${Number(parts.shift()) + 1}`;
  const key = parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
  if (entry && key) return `${entry}, "${key}"`;
  return entry || (key ? `"${key}"` : 'the top level');
}

/** One readable sentence for the most useful of Ajv's errors. */
export function describeSchemaError(errors: readonly ErrorObject[]): string {
  // anyOf failures come with the failing branches' `required` errors first: say what is needed instead.
  const anyOf = errors.find((e) => e.keyword === 'anyOf');
  const useful = errors.filter((e) => !e.schemaPath.includes('/anyOf/') && e.keyword !== 'if');
  const e = useful.find((x) => x.keyword !== 'anyOf') ?? anyOf ?? errors[0];
  if (!e) return 'invalid';
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown key ${where(e.instancePath, String(p['additionalProperty']))}`.replace(/^unknown key entry (\d+), /, 'entry $1: unknown key ');
    case 'required':
      return `${e.instancePath ? `${where(e.instancePath)}: ` : ''}missing "${String(p['missingProperty'])}"`;
    case 'anyOf':
      return `${e.instancePath ? `${where(e.instancePath)}: ` : ''}needs "fingerprint" or "check"`;
    case 'enum':
      return `${where(e.instancePath)} must be one of ${(p['allowedValues'] as unknown[]).join(', ')}, got ${JSON.stringify(valueAt(e))}`;
    case 'const':
      return `${where(e.instancePath)} must be ${JSON.stringify(p['allowedValue'])}`;
    case 'type':
      return `${where(e.instancePath)} must be ${p['type'] === 'integer' ? 'a whole number' : `a${/^[aeiou]/.test(String(p['type'])) ? 'n' : ''} ${String(p['type'])}`}`;
    case 'minimum':
      return `${where(e.instancePath)} must be ${String(p['comparison'])} ${String(p['limit'])}`;
    case 'minLength':
      return `${where(e.instancePath)} must not be empty`;
    case 'pattern':
      if (e.instancePath.endsWith('/reason')) return `${where(e.instancePath)} must not be empty`;
      if (e.instancePath.endsWith('/expires')) return `${where(e.instancePath)} must be a date YYYY-MM-DD`;
      return `${where(e.instancePath)} has an invalid format`;
    case 'propertyNames':
      return `${where(e.instancePath)} has an invalid key "${String(p['propertyName'])}"`;
    case 'uniqueItems':
      return `${where(e.instancePath)} lists an item twice`;
    default:
      return `${where(e.instancePath)} ${e.message ?? 'is invalid'}`;
  }
}

// Ajv errors do not carry the value; kept in a side channel while validating.
let current: unknown;
function valueAt(e: ErrorObject): unknown {
  let v = current;
  for (const part of e.instancePath.split('/').slice(1)) {
    v = (v as Record<string, unknown> | undefined)?.[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return v;
}

function check(schema: object, value: unknown, file: string, hint: string): void {
  const v = validator(schema);
  current = value;
  try {
    if (!v(value)) throw new UserError('config', `${file}: ${describeSchemaError(v.errors ?? [])}`, hint);
  } finally {
    current = undefined;
  }
}

export function validateConfig(value: unknown, file: string): void {
  check(CONFIG_SCHEMA, value, file, 'see "Configuration" in the README, or point "$schema" at schemas/supaudit.config.schema.json');
}

export function validateIgnore(value: unknown, file: string): void {
  check(IGNORE_SCHEMA, value, file, 'each entry needs "reason" and a "fingerprint" or a "check" (optionally with an "object" glob)');
}

export function validateBaseline(value: unknown, file: string): void {
  check(BASELINE_SCHEMA, value, file, 'write a baseline with supaudit baseline write');
}
