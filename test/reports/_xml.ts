/**
 * A small, strict XML 1.0 reader for tests (no dependency): enough to prove a document is
 * well-formed (one root, nested tags, quoted unique attributes, only the five predefined entities
 * and character references, no raw `<` or `&` in text, only characters XML allows) and to walk it.
 */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_:][\w.:-]*/;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
// Characters XML 1.0 allows: tab, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD, and astral (valid surrogate pairs).
const FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function decode(raw: string, where: number): string {
  if (raw.includes('<')) throw new Error(`raw '<' in text or attribute at ${where}`);
  return raw.replace(/&([^;\s]*);?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) throw new Error(`unterminated reference "${whole}" at ${where}`);
    if (ref in ENTITIES) return ENTITIES[ref]!;
    const m = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(ref);
    if (!m) throw new Error(`unknown entity "&${ref};" at ${where}`);
    const ch = String.fromCodePoint(m[1] ? parseInt(m[1], 16) : Number(m[2]));
    if (FORBIDDEN.test(ch)) throw new Error(`character reference to a forbidden character at ${where}`);
    return ch;
  });
}

/** Parses `xml` or throws with the position of the first error. */
export function parseXml(xml: string): XmlElement {
  const bad = FORBIDDEN.exec(xml);
  if (bad) throw new Error(`forbidden character U+${bad[0].charCodeAt(0).toString(16)} at ${bad.index}`);
  let i = 0;
  if (xml.startsWith('<?xml')) {
    const end = xml.indexOf('?>');
    if (end < 0) throw new Error('unterminated XML declaration');
    i = end + 2;
  }
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    if (stack.length === 0) {
      if (text.trim() !== '') throw new Error(`text outside the root element at ${i}`);
    } else {
      stack.at(-1)!.text += decode(text, i);
    }
    if (lt < 0) break;
    i = lt;
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i);
      if (end < 0) throw new Error(`unterminated comment at ${i}`);
      i = end + 3;
      continue;
    }
    if (xml.startsWith('</', i)) {
      const name = NAME.exec(xml.slice(i + 2))?.[0];
      const close = xml.indexOf('>', i);
      const open = stack.pop();
      if (!name || !open || open.name !== name || xml.slice(i + 2 + name.length, close).trim() !== '') {
        throw new Error(`mismatched close tag </${name}> for <${open?.name}> at ${i}`);
      }
      i = close + 1;
      continue;
    }
    const name = NAME.exec(xml.slice(i + 1))?.[0];
    if (!name) throw new Error(`bad tag at ${i}`);
    i += 1 + name.length;
    const attributes: Record<string, string> = {};
    for (;;) {
      const ws = /^\s*/.exec(xml.slice(i))![0].length;
      i += ws;
      if (xml.startsWith('/>', i) || xml.startsWith('>', i)) break;
      if (ws === 0) throw new Error(`attributes must be separated by whitespace at ${i}`);
      const attr = NAME.exec(xml.slice(i))?.[0];
      if (!attr || xml[i + attr.length] !== '=' || !['"', "'"].includes(xml[i + attr.length + 1] ?? '')) throw new Error(`bad attribute at ${i}`);
      const quote = xml[i + attr.length + 1]!;
      const end = xml.indexOf(quote, i + attr.length + 2);
      if (end < 0) throw new Error(`unterminated attribute at ${i}`);
      if (attr in attributes) throw new Error(`duplicate attribute ${attr} at ${i}`);
      attributes[attr] = decode(xml.slice(i + attr.length + 2, end), i);
      i = end + 1;
    }
    const element: XmlElement = { name, attributes, children: [], text: '' };
    if (stack.length > 0) stack.at(-1)!.children.push(element);
    else if (root) throw new Error(`second root element at ${i}`);
    else root = element;
    if (xml.startsWith('/>', i)) {
      i += 2;
    } else {
      stack.push(element);
      i += 1;
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.at(-1)!.name}>`);
  if (!root) throw new Error('no root element');
  return root;
}
