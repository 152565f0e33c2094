/**
 * File descriptor lifetimes, so that only open fds are closed, each exactly once, and a file's
 * `release` runs exactly once, at its final `fput` (§2.3: "final fput runs the file's release ...
 * never synchronously inside the caller's held locks").
 *
 * | word          | values                                                                 |
 * |---------------|------------------------------------------------------------------------|
 * | `*_fd`        | kFdNone (never opened), kFdOpen, kFdClosed                              |
 * | `* f_count`   | the struct file's references: 1 for the fd table, +1 per ioctl in flight |
 * | `device fds`, `vcpu fds` | how many such fds are open (no ioctls on them, so no f_count) |
 *
 * close(fd) claims the fd with CAS kFdOpen -> kFdClosed, then drops the fd table's reference.
 * fdget() takes a reference only while the fd is open and the count is not zero (a CAS loop), so
 * an ioctl either runs entirely before the release or fails with EBADF.
 */
import type { OpContext } from '../contract.js';
import { kFdClosed, kFdOpen, word } from './objects.js';

/** Marks a new fd open with one file reference (anon_inode_getfd + fd_install). */
export function installFd(ctx: OpContext, fd: string, file: string): void {
  word(ctx, file).set(1);
  word(ctx, fd).set(kFdOpen);
}

/** close(fd): true if this caller closed it (it was open); false if it was not open. */
export function closeFd(ctx: OpContext, fd: string): boolean {
  return word(ctx, fd).cas(kFdOpen, kFdClosed) === kFdOpen;
}

/** fdget: a file reference for an ioctl, or false (EBADF) if the fd is not open. */
export function fdget(ctx: OpContext, fd: string, file: string): boolean {
  if (word(ctx, fd).get() !== kFdOpen) return false;
  const count = word(ctx, file);
  let seen = count.get();
  for (;;) {
    if (seen <= 0) return false;
    const before = count.cas(seen, seen + 1);
    if (before === seen) return true;
    seen = before;
  }
}

/** fput: drops a file reference; true when it was the last, and the caller runs `release`. */
export function fput(ctx: OpContext, file: string): boolean {
  return word(ctx, file).add(-1) === 1;
}

/** Claims one of a count of open fds (device or vCPU fds) for closing; false when none is open. */
export function claimCount(ctx: OpContext, fds: string): boolean {
  const count = word(ctx, fds);
  let seen = count.get();
  for (;;) {
    if (seen <= 0) return false;
    const before = count.cas(seen, seen - 1);
    if (before === seen) return true;
    seen = before;
  }
}
