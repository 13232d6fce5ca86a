/**
 * How long the reader keeps polling /dev/fuse after its queue runs dry, before it goes back to sleep in epoll.
 *
 * Sleeping costs a wake-up per request: on a VM, a cross-CPU wake-up of an idle vCPU took 20-40 us here, more
 * than the request itself. A caller that issues its next request a few microseconds after our reply (find,
 * stat loops, tar) therefore waits mostly for wake-ups. Polling briefly catches that next request without one.
 *
 * The window adapts like the kernel's haltpoll cpuidle governor: it measures, at each wake-up, how long the
 * queue had been empty. A gap the largest window would have covered means polling would have paid off: the
 * window grows (doubling from `startUs` up to `maxUs`). A longer gap means polling was wasted: it halves, and
 * below `startUs` it is off. An idle daemon or a caller with long pauses between requests costs no polling;
 * a chain of quick requests is served without sleeping.
 */
export class BusyPoll {
  private window = 0;
  /** When the queue last ran dry and the window then expired (hrtime, ns); undefined once accounted for. */
  private dryAt: bigint | undefined;

  constructor(readonly maxUs: number, readonly startUs = Math.min(25, maxUs)) {}

  /** Microseconds to keep polling now that the queue is empty (0: go to sleep at once). */
  get windowUs(): number {
    return this.window;
  }

  /** The queue is empty and the window (if any) passed without a request: the reader goes to sleep. */
  sleeping(now: bigint): void {
    this.dryAt = now;
  }

  /** The reader was woken by a request (readiness from epoll). */
  woken(now: bigint): void {
    if (this.dryAt === undefined) return;
    const gapUs = Number(now - this.dryAt) / 1000 + this.window;
    this.dryAt = undefined;
    if (gapUs <= this.maxUs) this.window = Math.min(this.maxUs, Math.max(this.startUs, this.window * 2));
    else this.window = this.window / 2 < this.startUs ? 0 : this.window / 2;
  }
}
