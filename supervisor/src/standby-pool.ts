/**
 * One standby successor per daemon: a nydusd of the same binary, started with --upgrade and waiting in INIT, so
 * that a failover (or an upgrade to the same binary) does not wait for Node to start (a second, more under
 * load). A handover takes the standby (waiting for one still starting rather than starting another), and a new
 * one is prepared once the daemon serves again. Standbys are killed when the daemon stops or the supervisor
 * closes; they hold no mount state until they Take over.
 */
import { discardSuccessor, HandoverContext, startSuccessor, Successor } from './handover';
import { isAlive } from './process';
import { DaemonRecord } from './store';

export class StandbyPool {
  private readonly ready = new Map<string, Successor>();
  private readonly starting = new Map<string, Promise<void>>();
  /** pids of standbys still starting, so close() can end them at once (the process may exit right after). */
  private readonly startingPids = new Map<string, number>();
  private closed = false;

  constructor(private readonly ctx: HandoverContext, private readonly enabled: boolean) {}

  /** Starts a standby for `record` unless one exists or is starting. */
  prepare(record: DaemonRecord): void {
    const { id } = record;
    if (!this.enabled || this.closed || this.ready.has(id) || this.starting.has(id)) return;
    const starting = startSuccessor(this.ctx, record, record.binary, (pid) => this.startingPids.set(id, pid)).then(
      (successor) => {
        this.starting.delete(id);
        this.startingPids.delete(id);
        if (this.closed || record.status === 'stopped' || this.ready.has(id)) void discardSuccessor(this.ctx, successor);
        else this.ready.set(id, successor);
      },
      (err: Error) => {
        this.starting.delete(id);
        this.startingPids.delete(id);
        this.ctx.logger.warn('cannot prepare a standby successor', { id, error: err.message });
      },
    );
    this.starting.set(id, starting);
  }

  /** The standby for `id` if it runs `binary` and is alive (any other is discarded). */
  async take(id: string, binary: string): Promise<Successor | undefined> {
    await this.starting.get(id);
    const standby = this.ready.get(id);
    this.ready.delete(id);
    if (!standby) return undefined;
    if (standby.binary === binary && isAlive(standby.spawned.pid)) return standby;
    void discardSuccessor(this.ctx, standby);
    return undefined;
  }

  /** Kills the standby of `id`, if any. */
  async discard(id: string): Promise<void> {
    await this.starting.get(id);
    const standby = this.ready.get(id);
    this.ready.delete(id);
    if (standby) await discardSuccessor(this.ctx, standby);
  }

  close(): void {
    this.closed = true;
    for (const standby of this.ready.values()) void discardSuccessor(this.ctx, standby);
    this.ready.clear();
    for (const pid of this.startingPids.values()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.startingPids.clear();
  }
}
