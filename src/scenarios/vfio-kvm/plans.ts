/**
 * Which thread runs what in a round. A plan picks one schedule of kernel-model.md §11 per round
 * (seeded, so a seed replays the same plans) and deals its roles to threads: role i goes to thread
 * i, and when there are fewer threads than roles the extra roles are appended to threads
 * 0, 1, ... in role order, so with one thread every role runs in turn in a sensible order
 * (openers first, then the closes that race with them). Threads beyond the roles get the
 * schedule's `extra` list (more openers and closers of the same device), or nothing.
 *
 * Setup has already run VM_CREATE, KVFIO_CREATE and FILE_ADD; finish closes what is left.
 */
import type { Plan, Rng } from '../contract.js';
import type { OperationName } from './operations.js';

export interface Schedule {
  name: string;
  /** One op list per racing role. */
  roles: ReadonlyArray<readonly OperationName[]>;
  /** For threads beyond the roles. */
  extra: readonly OperationName[];
}

const openClose: readonly OperationName[] = ['DEV_OPEN', 'DEV_CLOSE'];
const openCloseTwice: readonly OperationName[] = ['DEV_OPEN', 'DEV_CLOSE', 'DEV_OPEN', 'DEV_CLOSE'];

/** The schedules, by their §11 names. */
export const SCHEDULE = {
  /** S-basic, on one thread: K is destroyed at the last of the three puts. */
  basic: {
    name: 'S-basic',
    roles: [['DEV_OPEN', 'DEV_OPEN', 'DEV_CLOSE', 'DEV_CLOSE', 'KVFIO_CLOSE', 'VM_CLOSE']],
    extra: [],
  },
  /**
   * S-ABBA (B1): the device is opened and closed (open_device and close_device both take
   * guests_lock -> kvm->lock under group_lock -> dev_set->lock) while the kvm-vfio fd is closed
   * (kvm->lock -> vfio_file_set_kvm).
   */
  abba: {
    name: 'S-ABBA',
    roles: [openCloseTwice, ['KVFIO_CLOSE'], openCloseTwice],
    extra: openClose,
  },
  /** S-last-ref-is-device (A1): the device's references are the last ones. */
  lastRefIsDevice: {
    name: 'S-last-ref-is-device',
    roles: [['DEV_OPEN', 'VM_CLOSE', 'KVFIO_CLOSE', 'DEV_CLOSE']],
    extra: [],
  },
  /** S-destroy-vs-open / S-kvmvfio-close-vs-open: the last fd puts race with first opens. */
  destroyVsOpen: {
    name: 'S-destroy-vs-open',
    roles: [openCloseTwice, ['KVFIO_CLOSE', 'VM_CLOSE'], openCloseTwice],
    extra: openClose,
  },
  /** S-del-vs-open: DEL, then the kvm-vfio fd and VM fd closes, race with first opens. */
  delVsOpen: {
    name: 'S-del-vs-open',
    roles: [openCloseTwice, ['FILE_DEL', 'KVFIO_CLOSE', 'VM_CLOSE'], openCloseTwice],
    extra: openClose,
  },
  /** S-reopen-after-del, on one thread: the second open finds group->kvm == NULL. */
  reopenAfterDel: {
    name: 'S-reopen-after-del',
    roles: [['DEV_OPEN', 'FILE_DEL', 'DEV_CLOSE', 'DEV_OPEN', 'DEV_CLOSE']],
    extra: [],
  },
  /** S-reopen-after-del as a race: DEL lands somewhere in a sequence of opens and closes. */
  reopenVsDel: {
    name: 'S-reopen-vs-del',
    roles: [openCloseTwice, ['FILE_DEL']],
    extra: openCloseTwice,
  },
  /** S-double-open, on one thread: two fds on one device, one core reference. */
  doubleOpen: {
    name: 'S-double-open',
    roles: [['DEV_OPEN', 'DEV_OPEN', 'DEV_CLOSE', 'DEV_CLOSE']],
    extra: [],
  },
  /** S-close-vs-open: every thread opens and closes the same device. */
  closeVsOpen: {
    name: 'S-close-vs-open',
    roles: [openCloseTwice, openCloseTwice],
    extra: openCloseTwice,
  },
  /** S-add-vs-del: ADD and DEL of the one group on the one kvm-vfio fd, from two threads. */
  addVsDel: {
    name: 'S-add-vs-del',
    roles: [
      ['FILE_DEL', 'FILE_ADD', 'FILE_DEL', 'FILE_ADD', 'FILE_DEL', 'FILE_ADD'],
      ['FILE_ADD', 'FILE_DEL', 'FILE_ADD', 'FILE_DEL', 'FILE_ADD', 'FILE_DEL'],
    ],
    extra: ['FILE_DEL', 'FILE_ADD', 'FILE_DEL', 'FILE_ADD'],
  },
} as const satisfies Record<string, Schedule>;

/** Deals a schedule's roles to `threads` threads. */
export function dealSchedule(schedule: Schedule, threads: number): string[][] {
  const lists: string[][] = Array.from({ length: threads }, () => []);
  schedule.roles.forEach((ops, role) => lists[role % threads]?.push(...ops));
  for (let t = schedule.roles.length; t < threads; t++) lists[t]?.push(...schedule.extra);
  return lists;
}

/** A plan that picks one of `schedules` per round, with the given weights (default equal). */
export function planOf(...schedules: ReadonlyArray<Schedule | readonly [Schedule, number]>): Plan {
  const weighted = schedules.map((s): readonly [Schedule, number] => (Array.isArray(s) ? (s as readonly [Schedule, number]) : [s as Schedule, 1]));
  const total = weighted.reduce((sum, [, w]) => sum + w, 0);
  return (rng: Rng, threads: number) => {
    let r = rng.next() * total;
    for (const [schedule, weight] of weighted) {
      r -= weight;
      if (r < 0) return dealSchedule(schedule, threads);
    }
    const last = weighted[weighted.length - 1];
    if (last === undefined) throw new RangeError('planOf needs at least one schedule');
    return dealSchedule(last[0], threads);
  };
}
