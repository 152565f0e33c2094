/**
 * The one name resolver of a world: ids in shared memory (locks, classes, refcounts, strings,
 * object pointers, op indexes) to the names a report prints. Used by the finding decoder, the
 * watchdog's dumps, the lockdep reports and the end-of-round checks alike.
 */
import { ThreadStep, type SharedMemory } from '../layout.js';
import type { EventNames } from '../lockdep/event-timeline.js';
import type { ReportNames } from '../lockdep/reports.js';
import { ClassKind } from '../layout.js';
import { classKindOf, classNameOf, lockClassOf, lockNameOf } from '../primitives/lock-table.js';
import { pointerSlot } from '../primitives/object-slots.js';
import type { StringTable } from '../primitives/string-table.js';
import type { WorldIds } from '../scenarios/world.js';
import type { WorldNames } from './findings.js';

export interface Names extends WorldNames, ReportNames, EventNames {
  /** What a thread runs, from kThreadCurrentOp - 1: an op name, `idle`, `plan()`, `setup`... */
  stepName(opIndex: number): string;
  completionName(completionId: number): string;
  classIsCompletion(classId: number): boolean;
}

const kStepNames: Record<number, string> = {
  [ThreadStep.Idle]: 'idle',
  [ThreadStep.Plan]: 'plan()',
  [ThreadStep.Setup]: 'setup',
  [ThreadStep.Finish]: 'finish',
  [ThreadStep.Checks]: 'invariants',
};

export function createNames(memory: SharedMemory, strings: StringTable, ids: WorldIds, opNames: readonly string[]): Names {
  const refNames = new Map([...ids.refcounts].map(([name, { id }]) => [id, name]));
  const slotNames = new Map([...ids.slots].map(([name, slot]) => [slot, name]));
  const wordNames = new Map([...ids.words].map(([name, index]) => [index, name]));
  const completionNames = new Map([...ids.completions].map(([name, { id }]) => [id, name]));
  const stepName = (opIndex: number): string =>
    opIndex >= 0 ? (opNames[opIndex] ?? `op#${opIndex}`) : (kStepNames[opIndex + 1] ?? `step ${opIndex + 1}`);
  return {
    lock: (lockId) => ({
      lock: lockNameOf(memory, strings, lockId),
      class: classNameOf(memory, strings, lockClassOf(memory, lockId)),
    }),
    // Copies of a stride (world.ts strideIds) have the names of copy 0.
    refcount: (refId) => refNames.get(refId % Math.max(1, ids.refcounts.size)) ?? `refcount#${refId}`,
    word: (index) => wordNames.get(index % Math.max(1, ids.words.size)) ?? `word#${index}`,
    string: (id) => strings.lookup(id),
    object: (pointer, type) => {
      const slot = pointerSlot(pointer);
      const name = slotNames.get(slot % Math.max(1, ids.slots.size));
      return `${strings.lookup(type) || name || 'object'} (slot ${name ?? slot}, generation ${pointer >>> 8})`;
    },
    className: (classId) => classNameOf(memory, strings, classId),
    lockName: (lockId) => lockNameOf(memory, strings, lockId),
    lockClass: (lockId) => lockClassOf(memory, lockId),
    opName: stepName,
    stepName,
    completionName: (id) => completionNames.get(id % Math.max(1, ids.completions.size)) ?? `completion#${id}`,
    classIsCompletion: (classId) => classKindOf(memory, classId) === ClassKind.Completion,
  };
}
