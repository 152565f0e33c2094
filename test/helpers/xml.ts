/**
 * A small, strict XML 1.0 reader for tests, and the structure rules of the common JUnit schema
 * (Jenkins' junit-10.xsd), so JUnit output is checked without a schema validator installed.
 *
 * The reader checks well-formedness: one root, tags that nest and match, quoted attributes with no
 * `<` and no duplicates, only the five predefined entities and numeric character references, no
 * `]]>` in text, and no character outside XML 1.0's `Char`. It keeps no namespaces, DTDs or
 * processing instructions other than the XML declaration: JUnit output needs none.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The decoded text directly inside this element (CDATA included). */
  text: string;
}

export class XmlError extends Error {}

const kNameStart = /[A-Za-z_:]/;
const kNameChar = /[A-Za-z0-9_:.-]/;
const kAllowedChar = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;

export function parseXml(source: string): XmlElement {
  if (!kAllowedChar.test(source)) {
    const bad = [...source].findIndex((c) => !kAllowedChar.test(c));
    throw new XmlError(`character U+${(source.codePointAt(bad) ?? 0).toString(16)} is not allowed in XML 1.0 (at ${bad})`);
  }
  let pos = 0;
  const fail = (why: string): never => {
    throw new XmlError(`${why} at offset ${pos}: ${JSON.stringify(source.slice(pos, pos + 30))}`);
  };
  const skipSpace = (): void => {
    while (pos < source.length && /\s/.test(source[pos] ?? '')) pos++;
  };
  const skipComment = (): boolean => {
    if (!source.startsWith('<!--', pos)) return false;
    const end = source.indexOf('-->', pos + 4);
    if (end < 0) fail('unterminated comment');
    pos = end + 3;
    return true;
  };
  const name = (): string => {
    const start = pos;
    if (!kNameStart.test(source[pos] ?? '')) fail('expected a name');
    while (kNameChar.test(source[pos] ?? '')) pos++;
    return source.slice(start, pos);
  };
  const decode = (raw: string, where: string): string =>
    raw.replace(/&([^;]*);|&/g, (match: string, ref: string | undefined) => {
      if (ref === undefined) fail(`a bare & in ${where}`);
      const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
      if (ref !== undefined && ref in named) return named[ref] ?? '';
      const num = /^#(?:x([0-9A-Fa-f]+)|([0-9]+))$/.exec(ref ?? '');
      if (num === null) fail(`unknown entity ${match} in ${where}`);
      const code = num?.[1] !== undefined ? parseInt(num[1], 16) : Number(num?.[2]);
      const char = code <= 0x10ffff ? String.fromCodePoint(code) : '';
      if (char === '' || !kAllowedChar.test(char)) fail(`character reference ${match} to a character XML forbids`);
      return char;
    });

  const element = (): XmlElement => {
    if (source[pos] !== '<') fail('expected <');
    pos++;
    const el: XmlElement = { name: name(), attrs: {}, children: [], text: '' };
    for (;;) {
      const before = pos;
      skipSpace();
      if (source.startsWith('/>', pos)) {
        pos += 2;
        return el;
      }
      if (source[pos] === '>') {
        pos++;
        break;
      }
      if (pos === before) fail('expected whitespace before an attribute');
      const attr = name();
      skipSpace();
      if (source[pos] !== '=') fail(`attribute ${attr} has no =`);
      pos++;
      skipSpace();
      const quote = source[pos];
      if (quote !== '"' && quote !== "'") fail(`attribute ${attr} is not quoted`);
      const end = source.indexOf(quote ?? '"', pos + 1);
      if (end < 0) fail(`attribute ${attr} is not closed`);
      const raw = source.slice(pos + 1, end);
      if (raw.includes('<')) fail(`attribute ${attr} contains <`);
      if (attr in el.attrs) fail(`attribute ${attr} appears twice`);
      el.attrs[attr] = decode(raw, `attribute ${attr}`);
      pos = end + 1;
    }
    for (;;) {
      if (pos >= source.length) fail(`<${el.name}> is not closed`);
      if (source.startsWith('</', pos)) {
        pos += 2;
        const closing = name();
        if (closing !== el.name) fail(`</${closing}> closes <${el.name}>`);
        skipSpace();
        if (source[pos] !== '>') fail('expected >');
        pos++;
        return el;
      }
      if (source.startsWith('<![CDATA[', pos)) {
        const end = source.indexOf(']]>', pos + 9);
        if (end < 0) fail('unterminated CDATA');
        el.text += source.slice(pos + 9, end);
        pos = end + 3;
        continue;
      }
      if (skipComment()) continue;
      if (source[pos] === '<') {
        el.children.push(element());
        continue;
      }
      const next = source.indexOf('<', pos);
      const raw = source.slice(pos, next < 0 ? source.length : next);
      if (raw.includes(']]>')) fail(']]> in text');
      el.text += decode(raw, `<${el.name}> text`);
      pos += raw.length;
    }
  };

  if (source.startsWith('<?xml', pos)) {
    const end = source.indexOf('?>', pos);
    if (end < 0) fail('unterminated XML declaration');
    pos = end + 2;
  }
  for (;;) {
    skipSpace();
    if (!skipComment()) break;
  }
  const root = element();
  for (;;) {
    skipSpace();
    if (!skipComment()) break;
  }
  if (pos !== source.length) fail('content after the root element');
  return root;
}

const kTime = /^[0-9]+(\.[0-9]+)?$/;

const kRules: Record<string, { attrs: readonly string[]; required: readonly string[]; children: readonly string[] }> = {
  testsuites: { attrs: ['name', 'time', 'tests', 'failures', 'errors'], required: [], children: ['testsuite'] },
  testsuite: {
    attrs: ['name', 'tests', 'failures', 'errors', 'group', 'time', 'skipped', 'timestamp', 'hostname', 'id', 'package', 'file', 'log', 'url'],
    required: ['name', 'tests', 'failures', 'errors'],
    children: ['testsuite', 'properties', 'testcase', 'system-out', 'system-err'],
  },
  properties: { attrs: [], required: [], children: ['property'] },
  property: { attrs: ['name', 'value'], required: ['name', 'value'], children: [] },
  testcase: {
    attrs: ['name', 'time', 'classname', 'group'],
    required: ['name'],
    children: ['skipped', 'error', 'failure', 'system-out', 'system-err'],
  },
  failure: { attrs: ['type', 'message'], required: [], children: [] },
  error: { attrs: ['type', 'message'], required: [], children: [] },
  skipped: { attrs: ['type', 'message'], required: [], children: [] },
  'system-out': { attrs: [], required: [], children: [] },
  'system-err': { attrs: [], required: [], children: [] },
};

/**
 * Every way `root` breaks the junit-10 structure (empty when it is fine): unknown elements or
 * attributes, missing required attributes, times that are not numbers, and suite counters that
 * disagree with the testcases they count.
 */
export function junitProblems(root: XmlElement): string[] {
  const problems: string[] = [];
  if (root.name !== 'testsuites' && root.name !== 'testsuite') problems.push(`root is <${root.name}>, not <testsuites>`);
  const visit = (el: XmlElement, path: string): void => {
    const rule = kRules[el.name];
    if (rule === undefined) {
      problems.push(`${path}: unknown element`);
      return;
    }
    for (const attr of Object.keys(el.attrs)) if (!rule.attrs.includes(attr)) problems.push(`${path}: attribute ${attr} is not in the schema`);
    for (const attr of rule.required) if (!(attr in el.attrs)) problems.push(`${path}: attribute ${attr} is required`);
    if (el.attrs.time !== undefined && !kTime.test(el.attrs.time)) problems.push(`${path}: time ${JSON.stringify(el.attrs.time)} is not a number of seconds`);
    for (const child of el.children) {
      if (!rule.children.includes(child.name)) problems.push(`${path}: <${child.name}> is not allowed here`);
    }
    if (el.name === 'testsuite') {
      const cases = el.children.filter((c) => c.name === 'testcase');
      const having = (kind: string): number => cases.filter((c) => c.children.some((k) => k.name === kind)).length;
      const counts = { tests: cases.length, failures: having('failure'), errors: having('error'), skipped: having('skipped') };
      for (const [attr, count] of Object.entries(counts)) {
        if (el.attrs[attr] !== undefined && Number(el.attrs[attr]) !== count) {
          problems.push(`${path}: ${attr}="${el.attrs[attr]}" but ${count} testcases say so`);
        }
      }
    }
    el.children.forEach((child, i) => visit(child, `${path}/${child.name}[${i}]`));
  };
  visit(root, root.name);
  return problems;
}

/** All elements named `name` under `root`, depth first. */
export function findAll(root: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (el: XmlElement): void => {
    if (el.name === name) out.push(el);
    el.children.forEach(walk);
  };
  walk(root);
  return out;
}
