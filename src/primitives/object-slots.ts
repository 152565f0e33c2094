/**
 * A slab with generations: shared objects are (slot, generation) pointers, and a freed slot is
 * poisoned, so any later access through an old pointer is caught, like KASAN's use-after-free
 * reports. A pointer is one non-zero word, so it can live in a plain shared word (`group->kvm`).
 *
 * | kObjState  | meaning                                   |
 * |------------|-------------------------------------------|
 * | Free (0)   | never allocated in this round             |
 * | Live (1)   | allocated; pointers of this generation ok |
 * | Poisoned   | freed; every access is use-after-free     |
 *
 * Pointer encoding: `(generation << 8) | (slot + 1)`; 0 is NULL. At most 255 slots.
 */
import {
  type SharedMemory,
  ObjState,
  kObjCreatedSite,
  kObjFreedSite,
  kObjFrees,
  kObjGeneration,
  kObjState,
  kObjType,
  objectBase,
} from '../layout.js';
import type { FindingLog } from './finding-log.js';
import type { StringTable } from './string-table.js';

export const kNullPointer = 0;

export function pointerSlot(pointer: number): number {
  return (pointer & 0xff) - 1;
}

export function pointerGeneration(pointer: number): number {
  return pointer >>> 8;
}

export class ObjectSlots {
  private readonly i32: Int32Array;

  constructor(
    private readonly memory: SharedMemory,
    readonly thread: number,
    private readonly log: FindingLog,
    private readonly strings: StringTable,
  ) {
    this.i32 = memory.i32;
  }

  /** Makes slot's next generation live and returns its pointer. */
  create(slot: number, type: string, site: string): number {
    if (slot < 0 || slot > 254) throw new RangeError(`object slot ${slot} out of range 0..254`);
    const base = objectBase(this.memory.layout, slot);
    const generation = ((Atomics.load(this.i32, base + kObjGeneration) + 1) & 0x3fffff) || 1;
    Atomics.store(this.i32, base + kObjType, this.strings.intern(type));
    Atomics.store(this.i32, base + kObjCreatedSite, this.strings.intern(site));
    Atomics.store(this.i32, base + kObjFreedSite, 0);
    Atomics.store(this.i32, base + kObjFrees, 0);
    Atomics.store(this.i32, base + kObjGeneration, generation);
    Atomics.store(this.i32, base + kObjState, ObjState.Live);
    return (generation << 8) | (slot + 1);
  }

  /** Whether a pointer refers to a live object, without reporting anything. */
  isLive(pointer: number): boolean {
    if (pointer === kNullPointer) return false;
    const base = objectBase(this.memory.layout, pointerSlot(pointer));
    return (
      Atomics.load(this.i32, base + kObjState) === ObjState.Live &&
      Atomics.load(this.i32, base + kObjGeneration) === pointerGeneration(pointer)
    );
  }

  /**
   * An access through `pointer` (a read, a lock, a refcount op on the object). Returns false and
   * logs `use-after-free` if the object was freed. NULL is the caller's business.
   */
  access(pointer: number, site: string): boolean {
    if (pointer === kNullPointer || this.isLive(pointer)) return true;
    this.reportFreed(pointer, site, 0);
    return false;
  }

  /** kfree: poisons the slot. Freeing a freed object is reported as use-after-free (double free). */
  free(pointer: number, site: string): void {
    const base = objectBase(this.memory.layout, pointerSlot(pointer));
    if (!this.isLive(pointer)) {
      this.reportFreed(pointer, site, 1);
      return;
    }
    Atomics.store(this.i32, base + kObjFreedSite, this.strings.intern(site));
    Atomics.add(this.i32, base + kObjFrees, 1);
    Atomics.store(this.i32, base + kObjState, ObjState.Poisoned);
  }

  /** Type and sites of a slot, as string ids (for reports). */
  describe(pointer: number): { type: number; createdSite: number; freedSite: number; live: boolean } {
    const base = objectBase(this.memory.layout, pointerSlot(pointer));
    return {
      type: Atomics.load(this.i32, base + kObjType),
      createdSite: Atomics.load(this.i32, base + kObjCreatedSite),
      freedSite: Atomics.load(this.i32, base + kObjFreedSite),
      live: this.isLive(pointer),
    };
  }

  /** Forgets every slot (between rounds, no thread running). Generations keep counting. */
  resetSlot(slot: number): void {
    const base = objectBase(this.memory.layout, slot);
    Atomics.store(this.i32, base + kObjState, ObjState.Free);
  }

  private reportFreed(pointer: number, site: string, isDoubleFree: number): void {
    const base = objectBase(this.memory.layout, pointerSlot(pointer));
    this.log.log('use-after-free', this.thread, {
      pointer,
      site: this.strings.intern(site),
      freedSite: Atomics.load(this.i32, base + kObjFreedSite),
      type: Atomics.load(this.i32, base + kObjType),
      doubleFree: isDoubleFree === 1,
    });
  }
}
