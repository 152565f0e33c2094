/**
 * JUnit XML for CI systems (GitHub Actions test reporters, GitLab, Jenkins), rendered from the
 * `--json` document, so a run and a merge of shards give the same XML.
 *
 * The shape follows the common JUnit schema (Jenkins' junit-10.xsd, which also accepts Ant's and
 * Surefire's output): `testsuites` (name, tests, failures, errors, time) holds one `testsuite`
 * per scenario (name, tests, failures, errors, skipped, time, timestamp, then `properties`), which
 * holds one `testcase` per variant (name, classname = the scenario, time). A variant that failed
 * has a `failure` whose message is its expectation against what it showed and whose text holds
 * each finding's message and kernel-format report; a variant that failed because the scenario or
 * the tool threw has an `error` instead. Inconclusive, skipped and interrupted variants are
 * `skipped` with their reason: none of them is evidence either way. A variant that ran under
 * several seeds (`--seeds`) is one testcase per seed, named `variant (seed N)`.
 *
 * Text and attribute values are escaped, not wrapped in CDATA (so `]]>` in a report needs no
 * special case), and characters XML 1.0 forbids (most C0 controls, lone surrogates, U+FFFE and
 * U+FFFF) are dropped.
 */
import { type StressDocument, type VariantDocument, formatDocumentExpectation } from './document.js';

/** Characters outside XML 1.0's `Char` production. */
const kForbiddenXmlChars = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Text content: `&`, `<` and `>` escaped (`>` too, so `]]>` never appears), forbidden characters dropped. */
export function xmlText(text: string): string {
  return text.replace(kForbiddenXmlChars, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An attribute value in double quotes; tabs and line breaks as character references so they survive. */
export function xmlAttr(text: string): string {
  return xmlText(text).replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

function element(name: string, attrs: Record<string, string | number>, body?: string): string {
  const attrText = Object.entries(attrs)
    .map(([key, value]) => ` ${key}="${xmlAttr(String(value))}"`)
    .join('');
  return body === undefined ? `<${name}${attrText}/>` : `<${name}${attrText}>${body}</${name}>`;
}

/** Seconds with millisecond precision, as JUnit writes them (`1.503`). */
function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/** `2026-11-27T07:13:07`: ISO 8601 without fraction or zone (UTC), the form Ant's schema requires. */
function junitTimestamp(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? new Date(0).toISOString().slice(0, 19) : date.toISOString().slice(0, 19);
}

function seenText(v: VariantDocument): string {
  return v.seen.length === 0 ? 'clean' : v.seen.join(', ');
}

/** The one-line outcome: `expected deadlock + lock-order-cycle; seen lock-order-cycle; 20 rounds`. */
export function outcomeLine(v: VariantDocument): string {
  return `expected ${formatDocumentExpectation(v.expect)}; seen ${seenText(v)}; ${v.rounds} rounds${v.note === '' ? '' : ` (${v.note})`}`;
}

/** Each finding: its message, then its kernel-format report, indented. */
function findingsText(v: VariantDocument): string {
  return v.findings
    .map((f) => {
      const rounds = `${f.count} round${f.count === 1 ? '' : 's'}, first in round ${f.firstRound}`;
      const report = f.report
        .split('\n')
        .map((line) => (line === '' ? '' : `   ${line}`))
        .join('\n');
      return `-- ${f.kind} (${rounds}): ${f.message}\n${report}`;
    })
    .join('\n\n');
}

function testcaseName(v: VariantDocument, seeds: number): string {
  return seeds > 1 ? `${v.name} (seed ${v.seed})` : v.name;
}

function testcase(v: VariantDocument, doc: StressDocument): string {
  const attrs = { name: testcaseName(v, doc.seeds), classname: doc.scenario, time: seconds(v.durationMs) };
  const findings = findingsText(v);
  const out = `${outcomeLine(v)}\n`;
  switch (v.status) {
    case 'pass':
      return element('testcase', attrs, element('system-out', {}, xmlText(findings === '' ? out : `${out}\n${findings}\n`)));
    case 'fail': {
      const body = [outcomeLine(v), ...v.errors.map((e) => `ERROR: ${e}`), findings].filter((s) => s !== '').join('\n\n');
      const failure =
        v.errors.length > 0
          ? element('error', { message: `error: ${v.errors[0] ?? ''}`, type: 'error' }, xmlText(`${body}\n`))
          : element('failure', { message: outcomeLine(v), type: 'fail' }, xmlText(`${body}\n`));
      return element('testcase', attrs, failure);
    }
    case 'inconclusive':
    case 'skipped':
    case 'interrupted':
      return element(
        'testcase',
        attrs,
        element('skipped', { message: `${v.status}: ${v.note === '' ? outcomeLine(v) : v.note}` }) +
          (findings === '' ? '' : element('system-out', {}, xmlText(`${findings}\n`))),
      );
  }
}

export interface JunitCounts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

/** What the suite's counters say: `fail` is a failure, or an error when the variant has errors. */
export function junitCounts(variants: readonly VariantDocument[]): JunitCounts {
  const isError = (v: VariantDocument): boolean => v.status === 'fail' && v.errors.length > 0;
  return {
    tests: variants.length,
    failures: variants.filter((v) => v.status === 'fail' && !isError(v)).length,
    errors: variants.filter(isError).length,
    skipped: variants.filter((v) => v.status === 'inconclusive' || v.status === 'skipped' || v.status === 'interrupted').length,
  };
}

/** The whole JUnit XML document for one run (or merge). */
export function toJunit(doc: StressDocument): string {
  const counts = junitCounts(doc.variants);
  const time = seconds(doc.durationMs);
  const properties = [
    ['seed', doc.seed === null ? 'mixed' : String(doc.seed)],
    ['seeds', String(doc.seeds)],
    ['threads', doc.threads === null ? 'mixed' : String(doc.threads)],
    ['verdict', doc.verdict],
    ...(doc.shard === null ? [] : [['shard', `${doc.shard.index}/${doc.shard.count}`]]),
    ...(doc.interrupted ? [['interrupted', 'true']] : []),
  ];
  const suite = element(
    'testsuite',
    {
      name: doc.scenario,
      tests: counts.tests,
      failures: counts.failures,
      errors: counts.errors,
      skipped: counts.skipped,
      time,
      timestamp: junitTimestamp(doc.startedAt),
    },
    `\n    ${element('properties', {}, properties.map(([name, value]) => element('property', { name: name ?? '', value: value ?? '' })).join(''))}\n${doc.variants.map((v) => `    ${testcase(v, doc)}\n`).join('')}  `,
  );
  const root = element(
    'testsuites',
    { name: 'lockstress', tests: counts.tests, failures: counts.failures, errors: counts.errors, time },
    `\n  ${suite}\n`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n${root}\n`;
}
