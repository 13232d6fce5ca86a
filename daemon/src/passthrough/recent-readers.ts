/**
 * Whether several threads are reading through the mount at the moment: READs from two different threads (the
 * requests' pids) less than WINDOW_MS apart, in the last WINDOW_MS. A read the host's page cache cannot serve then
 * starts its disk read and waits for it after the other queued requests (file-ops.ts read()), so that the disk
 * waits of the readers overlap; a lone reader's read simply waits for the disk, right away.
 */
const WINDOW_MS = 5;

export class RecentReaders {
  private lastPid = -1;
  private lastAt = -Infinity;
  private severalUntil = -Infinity;

  /** Notes a read by thread `pid` at `now` (ms); true while several threads read. */
  note(pid: number, now: number): boolean {
    if (pid !== this.lastPid && now - this.lastAt < WINDOW_MS) this.severalUntil = now + WINDOW_MS;
    this.lastPid = pid;
    this.lastAt = now;
    return now < this.severalUntil;
  }
}
