/** The slab: freed objects are poisoned, and old pointers stay invalid. */
import { describe, expect, it } from 'vitest';
import { ObjectSlots, kNullPointer } from '../../src/primitives/object-slots.js';
import { freshMemory } from '../helpers/memory.js';

function setup() {
  const { memory, strings, log } = freshMemory();
  return { strings, log, slots: new ObjectSlots(memory, 0, log, strings) };
}

describe('ObjectSlots', () => {
  it('access to a live object passes, and so does NULL', () => {
    const { slots, log } = setup();
    const kvm = slots.create(0, 'struct kvm', 'kvm_create_vm');
    expect(kvm).not.toBe(kNullPointer);
    expect(slots.access(kvm, 'kvm_get_kvm')).toBe(true);
    expect(slots.access(kNullPointer, 'x')).toBe(true);
    expect(log.drain().records).toEqual([]);
  });

  it('access after free is a use-after-free naming both sites', () => {
    const { slots, log, strings } = setup();
    const kvm = slots.create(0, 'struct kvm', 'kvm_create_vm');
    slots.free(kvm, 'kvm_destroy_vm');
    expect(slots.access(kvm, 'mutex_unlock')).toBe(false);
    const [record] = log.drain().records;
    expect(record?.kind).toBe('use-after-free');
    expect(strings.lookup(record?.args[1] ?? 0)).toBe('mutex_unlock');
    expect(strings.lookup(record?.args[2] ?? 0)).toBe('kvm_destroy_vm');
    expect(strings.lookup(record?.args[3] ?? 0)).toBe('struct kvm');
  });

  it('a double free is reported as use-after-free with the double-free flag', () => {
    const { slots, log } = setup();
    const kvm = slots.create(0, 'struct kvm', 'kvm_create_vm');
    slots.free(kvm, 'kvm_destroy_vm');
    slots.free(kvm, 'kvm_destroy_vm');
    const records = log.drain().records;
    expect(records.map((r) => r.kind)).toEqual(['use-after-free']);
    expect(records[0]?.args[4]).toBe(1);
  });

  it('a new generation in the same slot does not revive old pointers', () => {
    const { slots, log } = setup();
    const first = slots.create(0, 'struct kvm', 'kvm_create_vm');
    slots.free(first, 'kvm_destroy_vm');
    const second = slots.create(0, 'struct kvm', 'kvm_create_vm');
    expect(second).not.toBe(first);
    expect(slots.isLive(second)).toBe(true);
    expect(slots.isLive(first)).toBe(false);
    expect(slots.access(first, 'stale')).toBe(false);
    expect(log.drain().records.map((r) => r.kind)).toEqual(['use-after-free']);
  });
});
