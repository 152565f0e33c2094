/**
 * The arbiter: the end-of-round checks, run by thread 0 after `finish` (in the worker, so that no
 * scenario code ever runs on the main thread). It runs the scenario's `invariants` on a read-only
 * view of the world and sweeps every refcount that must end at zero; each problem is a finding
 * with its evidence. Only a round that ran to its end is checked: a torn-down round never gets here.
 */
import type { SharedMemory } from '../layout.js';
import { FindingLog } from '../primitives/finding-log.js';
import { Refcount, kRefSaturated } from '../primitives/refcount.js';
import type { StringTable } from '../primitives/string-table.js';
import type { Scenario } from '../scenarios/contract.js';
import { type WorldIds, createWorldView } from '../scenarios/world.js';
import type { Finding } from './findings.js';

export function checkRound(
  memory: SharedMemory,
  strings: StringTable,
  ids: WorldIds,
  scenario: Scenario,
  variant: string,
  round: number,
): Finding[] {
  const findings: Finding[] = [];
  const view = createWorldView(memory, strings, ids, variant, round);
  for (const text of scenario.invariants?.(view) ?? []) {
    findings.push({ kind: 'invariant', round, thread: -1, locks: [], message: text, key: text, evidence: { text } });
  }
  findings.push(...sweepRefcounts(memory, strings, ids, round));
  return findings;
}

/** Refcounts that must end at zero and did not: leaks, named by who still holds references. */
export function sweepRefcounts(memory: SharedMemory, strings: StringTable, ids: WorldIds, round: number): Finding[] {
  const leaks: Finding[] = [];
  for (const [name, { id, mustEndAtZero }] of ids.refcounts) {
    if (!mustEndAtZero) continue;
    const count = Refcount.countOf(memory, id);
    // A saturated count was already reported as underflow or inc-on-zero.
    if (count === 0 || count === kRefSaturated) continue;
    const ref = new Refcount(memory, id, 0, new FindingLog(memory), strings);
    const holders = ref
      .ledger()
      .filter((row) => row.net > 0)
      .map((row) => ({ holder: strings.lookup(row.tag), refs: row.net, lastGetSite: strings.lookup(row.lastGetSite) }));
    const who = holders.map((h) => `${h.refs} by ${h.holder} (last get at ${h.lastGetSite})`).join(', ');
    leaks.push({
      kind: 'refcount-leak',
      round,
      thread: -1,
      locks: [],
      message: `${name} is ${count} after everything was closed: ${who || 'no holder recorded'}`,
      key: `${name}:${holders.map((h) => `${h.holder}@${h.lastGetSite}`).join(',')}`,
      evidence: { refcount: name, count, holders },
    });
  }
  return leaks;
}
