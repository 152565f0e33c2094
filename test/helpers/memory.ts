/** A fresh buffer with a few locks defined, for single-thread primitive tests. */
import { LockKind, SharedMemory, kDefaultCapacities } from '../../src/layout.js';
import { FindingLog } from '../../src/primitives/finding-log.js';
import { LockTable } from '../../src/primitives/lock-table.js';
import { StringTable } from '../../src/primitives/string-table.js';
import { resetLockOrderGraph } from '../../src/scenarios/world.js';

export function freshMemory(): { memory: SharedMemory; strings: StringTable; log: FindingLog; table: LockTable } {
  const memory = SharedMemory.create(kDefaultCapacities);
  const strings = new StringTable(memory);
  const table = new LockTable(memory, strings);
  resetLockOrderGraph(memory);
  return { memory, strings, log: new FindingLog(memory), table };
}

export const kKindCode = {
  'futex-mutex': LockKind.Mutex,
  spinlock: LockKind.SpinLock,
  'ticket-spinlock': LockKind.TicketSpinLock,
  rwsem: LockKind.RwSemaphore,
  rwlock: LockKind.RwLock,
} as const;
