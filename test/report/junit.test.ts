/** JUnit XML from plain verdict data: structure, counters, escaping, and each status's element. */
import { describe, expect, it } from 'vitest';
import { type StressDocument, type VariantDocument, finishDocument } from '../../src/report/document.js';
import { toJunit, xmlAttr, xmlText } from '../../src/report/junit.js';
import { type XmlElement, XmlError, findAll, junitProblems, parseXml } from '../helpers/xml.js';

function variant(name: string, extra: Partial<VariantDocument>): VariantDocument {
  return {
    name,
    description: `${name} variant`,
    expect: ['clean'],
    seen: [],
    pass: false,
    status: 'pass',
    note: '',
    rounds: 40,
    durationMs: 1503,
    abortedRounds: 0,
    firstDeadlockMs: null,
    stoppedBy: 'duration',
    errors: [],
    findings: [],
    lockStats: [],
    coverage: { pairsOverlapped: 0, pairsPossible: 0, overlapped: [] },
    seed: 7,
    ...extra,
  };
}

/** A report with everything XML makes hard: markup, `]]>`, a C0 control, a lone surrogate, U+FFFE. */
const kNastyReport = 'Wait-for cycle: thread-1 -> <group_lock> & "kvm->lock" ]]> end\u0001\uD800\uFFFE\ttab';

function document(variants: VariantDocument[], extra: Partial<StressDocument> = {}): StressDocument {
  return finishDocument({
    tool: 'lockstress',
    scenario: 'vfio-kvm',
    seed: 7,
    seeds: 1,
    threads: 4,
    startedAt: '2026-11-27T07:13:07.123Z',
    durationMs: 9018,
    interrupted: false,
    shard: null,
    variants,
    ...extra,
  });
}

const kVariants = [
  variant('2b48f52f2bff', { status: 'pass' }),
  variant('51cdc8bc', {
    status: 'fail',
    expect: ['deadlock', 'lock-order-cycle'],
    seen: ['lock-order-cycle'],
    findings: [
      {
        kind: 'lock-order-cycle',
        count: 1,
        firstRound: 1,
        locks: ['group_lock', 'kvm->lock'],
        message: 'possible circular locking dependency: group_lock -> kvm->lock -> group_lock',
        evidence: {},
        replay: null,
        report: kNastyReport,
      },
    ],
  }),
  variant('throws', { status: 'fail', errors: ['thread 0: TypeError: ctx.locks.X is undefined'] }),
  variant('short', { status: 'inconclusive', note: '3 rounds, fewer than 20' }),
  variant('needs-two', { status: 'skipped', note: 'needs 2 threads' }),
  variant('stopped', { status: 'interrupted' }),
];

function testcase(root: XmlElement, name: string): XmlElement {
  const found = findAll(root, 'testcase').find((t) => t.attrs.name === name);
  if (found === undefined) throw new Error(`no testcase ${name}`);
  return found;
}

describe('JUnit XML', () => {
  const xml = toJunit(document(kVariants));
  const root = parseXml(xml);

  it('is well-formed and follows the junit-10 structure, with counters that match the testcases', () => {
    expect(junitProblems(root)).toEqual([]);
    expect(root.name).toBe('testsuites');
    expect(root.attrs).toMatchObject({ tests: '6', failures: '1', errors: '1', time: '9.018' });
    const [suite] = findAll(root, 'testsuite');
    expect(suite?.attrs).toEqual({
      name: 'vfio-kvm',
      tests: '6',
      failures: '1',
      errors: '1',
      skipped: '3',
      time: '9.018',
      timestamp: '2026-11-27T07:13:07',
    });
  });

  it('has one testcase per variant, classname the scenario, time in seconds', () => {
    expect(findAll(root, 'testcase').map((t) => [t.attrs.name, t.attrs.classname, t.attrs.time])).toEqual(
      kVariants.map((v) => [v.name, 'vfio-kvm', '1.503']),
    );
  });

  it('a failing variant carries a failure with its expectation and its findings, text intact but for forbidden characters', () => {
    const failure = testcase(root, '51cdc8bc').children.find((c) => c.name === 'failure');
    expect(failure?.attrs.message).toBe('expected deadlock + lock-order-cycle; seen lock-order-cycle; 40 rounds');
    expect(failure?.text).toContain('-- lock-order-cycle (1 round, first in round 1): possible circular locking dependency: group_lock -> kvm->lock -> group_lock');
    // Escaped, so it reads back exactly, minus U+0001, the lone surrogate and U+FFFE.
    expect(failure?.text).toContain('   Wait-for cycle: thread-1 -> <group_lock> & "kvm->lock" ]]> end\ttab');
    expect(xml).not.toContain(']]>');
    expect(xml).not.toContain('\u0001');
  });

  it('a variant that failed because code threw carries an error, not a failure', () => {
    const children = testcase(root, 'throws').children.map((c) => c.name);
    expect(children).toEqual(['error']);
    expect(testcase(root, 'throws').children[0]?.attrs.message).toBe('error: thread 0: TypeError: ctx.locks.X is undefined');
  });

  it('inconclusive, skipped and interrupted variants are skipped with their reason', () => {
    expect(testcase(root, 'short').children[0]?.attrs).toEqual({ message: 'inconclusive: 3 rounds, fewer than 20' });
    expect(testcase(root, 'needs-two').children[0]?.attrs).toEqual({ message: 'skipped: needs 2 threads' });
    expect(testcase(root, 'stopped').children[0]?.attrs.message).toMatch(/^interrupted: /);
  });

  it('a passing variant has no failure, error or skipped element', () => {
    expect(testcase(root, '2b48f52f2bff').children.map((c) => c.name)).toEqual(['system-out']);
  });

  it('names a variant by its seed when the run has several seeds', () => {
    const two = toJunit(document([variant('a', { seed: 7 }), variant('a', { seed: 8 })], { seeds: 2 }));
    expect(findAll(parseXml(two), 'testcase').map((t) => t.attrs.name)).toEqual(['a (seed 7)', 'a (seed 8)']);
  });

  it('keeps line breaks and tabs in attributes as character references', () => {
    expect(xmlAttr('a\nb\t"c"')).toBe('a&#10;b&#9;&quot;c&quot;');
    expect(parseXml(`<x a="${xmlAttr('one\ntwo <&>')}"/>`).attrs.a).toBe('one\ntwo <&>');
    expect(xmlText('x]]>y')).toBe('x]]&gt;y');
  });
});

describe('the test XML checker', () => {
  it.each([
    ['<a><b></a></b>', '</a> closes <b>'],
    ['<a>x ]]> y</a>', ']]> in text'],
    ['<a>&nbsp;</a>', 'unknown entity'],
    ['<a>\u0001</a>', 'not allowed in XML 1.0'],
    ['<a x="1" x="2"/>', 'appears twice'],
    ['<a x=1/>', 'not quoted'],
    ['<a/><b/>', 'content after the root'],
    ['<a>&#0;</a>', 'forbids'],
  ])('rejects %s', (text, why) => {
    expect(() => parseXml(text)).toThrow(XmlError);
    expect(() => parseXml(text)).toThrow(why);
  });

  it('finds what breaks the junit structure', () => {
    const bad = parseXml('<testsuites skipped="1"><testsuite name="s" tests="2" failures="0"><testcase name="a"><oops/></testcase></testsuite></testsuites>');
    expect(junitProblems(bad)).toEqual([
      'testsuites: attribute skipped is not in the schema',
      'testsuites/testsuite[0]: attribute errors is required',
      'testsuites/testsuite[0]: tests="2" but 1 testcases say so',
      'testsuites/testsuite[0]/testcase[0]: <oops> is not allowed here',
      'testsuites/testsuite[0]/testcase[0]/oops[0]: unknown element',
    ]);
  });
});
