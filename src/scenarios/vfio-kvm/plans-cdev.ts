/**
 * The §11 schedules of the 6.6 device cdev path (kernel-model.md §8.3, §11 S-cdev-double-bind),
 * in the operations of operations.ts (`BIND(df1)`, `FILE_ADD(vm2,df1)`). They need a kernel with
 * `version.cdev`; plans.ts `dealSchedule` deals them like the group path's.
 *
 * A df's release (its UNBIND) runs at the final fput of its file: while a kvm-vfio device lists
 * the df (FILE_ADD) that is not the close of its fd, so the schedules FILE_DEL a df before they
 * close it (FILE_DEL needs the df's fd open: -EBADF after the close).
 */
import type { Schedule } from './plans.js';

/** One df's whole life on the first VM: open, ADD, BIND, DEL, close (UNBIND). */
function cdevLife(df: string): string[] {
  return [`CDEV_OPEN(${df})`, `FILE_ADD(${df})`, `BIND(${df})`, `FILE_DEL(${df})`, `CDEV_CLOSE(${df})`];
}

const openCloseTwice: readonly string[] = ['DEV_OPEN', 'DEV_CLOSE', 'DEV_OPEN', 'DEV_CLOSE'];

export const CDEV_SCHEDULE = {
  /** S-cdev-bind, on one thread: one df bound; a second BIND of it is -EINVAL (access_granted). */
  bind: {
    name: 'S-cdev-bind',
    roles: [['CDEV_OPEN(df1)', 'FILE_ADD(df1)', 'BIND(df1)', 'BIND(df1)', 'FILE_DEL(df1)', 'CDEV_CLOSE(df1)']],
    extra: [],
  },
  /**
   * S-cdev-double-bind, on one thread (§11): two dfs on the device, both ADDed; BIND(df1) opens
   * the device, BIND(df2) fails -EINVAL (cdev opens are exclusive); then df1's UNBIND.
   */
  doubleBind: {
    name: 'S-cdev-double-bind',
    roles: [
      [
        'CDEV_OPEN(df1)',
        'CDEV_OPEN(df2)',
        'FILE_ADD(df1)',
        'FILE_ADD(df2)',
        'BIND(df1)',
        'BIND(df2)',
        'FILE_DEL(df1)',
        'CDEV_CLOSE(df1)',
        'FILE_DEL(df2)',
        'CDEV_CLOSE(df2)',
      ],
    ],
    extra: [],
  },
  /**
   * S-cdev-double-bind as a race: each thread lives one df; whichever BIND comes second while the
   * other df is still bound fails. On one thread the roles run one after the other: no overlap.
   */
  doubleBindRace: {
    name: 'S-cdev-double-bind-race',
    roles: [cdevLife('df1'), cdevLife('df2')],
    extra: ['BIND(df2)', 'BIND(df1)'],
  },
  /**
   * S-cdev-vs-group: the group path opens and closes the device while dfs bind it: BIND is
   * -EBUSY while the group path has it open, DEV_OPEN -EBUSY while a df has the group blocked.
   */
  vsGroup: {
    name: 'S-cdev-vs-group',
    roles: [openCloseTwice, [...cdevLife('df1'), ...cdevLife('df2')]],
    extra: ['DEV_OPEN', 'DEV_CLOSE'],
  },
  /** S-cdev-vs-group on one thread: each side finds the other holding the device. */
  busy: {
    name: 'S-cdev-busy',
    roles: [
      [
        'DEV_OPEN',
        'CDEV_OPEN(df1)',
        'FILE_ADD(df1)',
        'BIND(df1)',
        'DEV_CLOSE',
        'BIND(df1)',
        'DEV_OPEN',
        'FILE_DEL(df1)',
        'CDEV_CLOSE(df1)',
        'DEV_OPEN',
        'DEV_CLOSE',
      ],
    ],
    extra: [],
  },
  /**
   * S-cdev-kvfio-close-vs-bind (S-ABBA for cdev): a df is ADDed and bound while the kvm-vfio fd
   * (kvm_vfio_release: kvm->lock -> set_kvm(df, NULL)) and the VM fd are closed. The df stays
   * bound until the release drops the kvf's file reference: its UNBIND may do the last put.
   */
  vsKvfioClose: {
    name: 'S-cdev-kvfio-close-vs-bind',
    roles: [['CDEV_OPEN(df1)', 'FILE_ADD(df1)', 'BIND(df1)', 'CDEV_CLOSE(df1)'], ['KVFIO_CLOSE', 'VM_CLOSE']],
    extra: cdevLife('df2'),
  },
  /**
   * S-cdev-bind on two VMs (§10 M13's trigger): setup ADDed the group to the first VM; the df is
   * ADDed to the second and bound, so the df's kvm and the group's differ.
   */
  bindOtherVm: {
    name: 'S-cdev-bind-other-vm',
    roles: [['CDEV_OPEN(df1)', 'FILE_ADD(vm2,df1)', 'BIND(df1)', 'FILE_DEL(vm2,df1)', 'CDEV_CLOSE(df1)']],
    extra: [],
  },
  /** The same while the second VM's kvm-vfio fd and VM fd are closed. */
  bindOtherVmRace: {
    name: 'S-cdev-bind-other-vm-race',
    roles: [
      ['CDEV_OPEN(df1)', 'FILE_ADD(vm2,df1)', 'BIND(df1)', 'FILE_DEL(vm2,df1)', 'CDEV_CLOSE(df1)'],
      ['KVFIO_CLOSE(vm2)', 'VM_CLOSE(vm2)'],
    ],
    extra: [],
  },
} as const satisfies Record<string, Schedule>;

/** The cdev schedules that run on the default topology (one device, one VM). */
export const kCdevSchedules: readonly Schedule[] = [
  CDEV_SCHEDULE.bind,
  CDEV_SCHEDULE.doubleBind,
  CDEV_SCHEDULE.doubleBindRace,
  CDEV_SCHEDULE.vsGroup,
  CDEV_SCHEDULE.busy,
  CDEV_SCHEDULE.vsKvfioClose,
];
