/**
 * Runs daemons under supervision: starts them (`run`), notices when one dies (its process exits, or its link
 * closes and the pid is gone: the only signal left for daemons started by an earlier supervisor instance) and
 * fails it over, hot-upgrades on request, stops them. Operations on one daemon id never overlap. After a
 * supervisor restart it re-adopts the daemons its state directory lists; their descriptors come back when they
 * link again (the server then asks them for their state).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Logger } from '../../daemon/src/log';
import { FramedChannel } from '../../daemon/src/upgrade/channel';
import { FrameType } from '../../daemon/src/upgrade/frame';
import { encodeMessage } from '../../daemon/src/upgrade/proto';
import { DaemonApi } from './daemon-api';
import { failover, HandoverContext, hotUpgrade } from './handover';
import { StandbyPool } from './standby-pool';
import { defaultDaemonBinary, flagValue, isAlive, isFuseMounted, spawnDaemon, SpawnedDaemon, waitForExit, withoutSupervisorFlags } from './process';
import { LinkInfo } from './server';
import { DaemonRecord, DaemonStore, HandoverReport, validateDaemonId } from './store';

export interface ManagerOptions {
  sockPath: string;
  runDir: string;
  store: DaemonStore;
  logger: Logger;
  readyTimeoutMs?: number;
  /** Keep one successor per daemon started and waiting in INIT, so a failover does not wait for Node to start. */
  standby?: boolean;
}

export class DaemonManager {
  private readonly links = new Map<number, FramedChannel>();
  private readonly retiring = new Set<number>();
  private readonly handled = new Set<number>();
  private readonly resend = new Set<string>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly standbys: StandbyPool;
  private successorCount = 0;
  private readonly quickDeaths = new Map<string, number>();
  private readonly ctx: HandoverContext;
  private closing = false;

  constructor(private readonly options: ManagerOptions) {
    fs.mkdirSync(options.runDir, { recursive: true, mode: 0o700 });
    this.ctx = {
      store: options.store,
      sockPath: options.sockPath,
      logger: options.logger,
      logFileOf: (id) => path.join(options.runDir, `${id}.log`),
      track: (id, spawned) => this.track(id, spawned),
      retire: (pid) => this.retiring.add(pid),
      setResend: (id, on) => (on ? this.resend.add(id) : this.resend.delete(id)),
      successorApiSock: (record) => `${record.apiSock}.s${++this.successorCount}`,
      readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
    };
    this.standbys = new StandbyPool(this.ctx, options.standby ?? false);
  }

  isLinked(pid: number): boolean {
    return this.links.has(pid);
  }

  resendFor(id: string): boolean {
    return this.resend.has(id);
  }

  /** Starts a daemon; resolves once its API reports RUNNING. */
  run(id: string, args: string[], binary = defaultDaemonBinary()): Promise<DaemonRecord> {
    validateDaemonId(id);
    return this.serialise(id, async () => {
      const existing = this.options.store.get(id);
      if (existing && isAlive(existing.pid)) throw new Error(`Daemon ${id} already runs (pid ${existing.pid})`);
      this.options.store.clearState(id);
      const record = this.options.store.ensure(id);
      record.args = withoutSupervisorFlags(args);
      record.apiSock = flagValue(args, '--apisock') ?? path.join(this.options.runDir, `${id}.api.sock`);
      record.binary = binary;
      record.status = 'starting';
      const spawned = spawnDaemon({
        binary, args: record.args, id, supervisorSock: this.options.sockPath, apiSock: record.apiSock, upgrade: false,
        logFile: this.ctx.logFileOf(id),
      });
      record.pid = spawned.pid;
      this.track(id, spawned);
      const api = new DaemonApi(record.apiSock);
      try {
        await api.waitReady(this.ctx.readyTimeoutMs, 'RUNNING', () => isAlive(spawned.pid));
      } catch (err) {
        record.status = 'dead';
        this.retiring.add(spawned.pid);
        try {
          process.kill(spawned.pid, 'SIGKILL');
        } catch {
          // already gone
        }
        throw new Error(`Daemon ${id} did not start: ${(err as Error).message} (log: ${this.ctx.logFileOf(id)})`);
      } finally {
        api.close();
      }
      record.status = 'running';
      record.runningSince = Date.now();
      this.options.store.persist(record);
      this.standbys.prepare(record);
      return record;
    });
  }

  restart(id: string, binary?: string): Promise<HandoverReport> {
    return this.serialise(id, async () => {
      const record = this.requireRecord(id);
      const target = binary ?? record.binary;
      const result = await hotUpgrade(this.ctx, record, target, await this.standbys.take(id, target));
      return this.finish(record, result);
    });
  }

  /** Ends a daemon and its mount (SIGTERM: nydusd unmounts), and forgets it. */
  stop(id: string): Promise<{ id: string; stopped: boolean }> {
    return this.serialise(id, async () => {
      const record = this.requireRecord(id);
      record.status = 'stopped';
      await this.standbys.discard(id);
      this.retiring.add(record.pid);
      let stopped = true;
      if (isAlive(record.pid)) {
        process.kill(record.pid, 'SIGTERM');
        stopped = await waitForExit(record.pid, 10_000);
        if (!stopped) process.kill(record.pid, 'SIGKILL');
      }
      this.options.store.remove(id);
      return { id, stopped };
    });
  }

  onLink(link: LinkInfo, channel: FramedChannel): void {
    const record = this.options.store.ensure(link.daemonId);
    this.links.set(link.pid, channel);
    if (link.pid === record.pid || !isAlive(record.pid)) {
      record.linked = true;
      if (record.status === 'unknown' && record.envelope) record.status = 'running';
      if (link.pid !== record.pid && record.status !== 'upgrading' && record.status !== 'failing-over') record.pid = link.pid;
    }
    channel.onClose(() => {
      this.links.delete(link.pid);
      if (record.pid === link.pid) record.linked = false;
      void this.confirmDeath(link.daemonId, link.pid);
    });
    if (link.pid === record.pid && record.status === 'running') this.standbys.prepare(record);
    if (link.pid === record.pid) {
      // A (re)link starts a fresh baseline: deltas only follow a full state sent on the same connection.
      this.options.logger.info('asking a linked daemon for its state', { id: link.daemonId, pid: link.pid, fdsLost: record.fdsLost });
      channel.send(FrameType.RequestState, encodeMessage('RequestState', { reason: record.fdsLost ? 'supervisor restarted' : 'linked' })).catch(() => undefined);
    }
  }

  /** Re-adopts the daemons a previous supervisor instance recorded. */
  adopt(records: DaemonRecord[]): void {
    for (const record of records) {
      if (isAlive(record.pid)) {
        this.options.logger.info('re-adopting a live daemon; waiting for it to link', { id: record.id, pid: record.pid });
        void this.watchAdopted(record.id, record.pid);
      } else if (record.status === 'running') {
        record.status = 'dead';
        this.options.logger.error('a recorded daemon died while the supervisor was away; its mount is lost', { id: record.id, pid: record.pid });
      }
    }
  }

  close(): void {
    this.closing = true;
    this.standbys.close();
    for (const channel of this.links.values()) channel.close('supervisor closing');
    this.links.clear();
  }

  private async watchAdopted(id: string, pid: number): Promise<void> {
    // Not our child: no exit event. The link usually tells us; this catches a daemon that never links again.
    while (!this.closing && isAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 200));
    if (!this.closing) this.processGone(id, pid);
  }

  private track(id: string, spawned: SpawnedDaemon): void {
    void spawned.exited.then(({ code, signal }) => {
      this.options.logger.info('daemon process ended', { id, pid: spawned.pid, code, signal });
      this.processGone(id, spawned.pid, code === 0);
    });
  }

  /** Resolves once the link of `pid` has been read to its end (every delta applied), or after `ms`. */
  private linkDrained(pid: number, ms: number): Promise<void> {
    const channel = this.links.get(pid);
    if (!channel || channel.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      channel.onClose(() => {
        clearTimeout(timer);
        setImmediate(resolve); // let the server finish the frames read before EOF
      });
    });
  }

  private async confirmDeath(id: string, pid: number): Promise<void> {
    if (this.closing || this.retiring.has(pid)) return;
    if (await waitForExit(pid, 3000)) this.processGone(id, pid);
  }

  /** `cleanExit`: the process exited 0, i.e. on purpose (Exit, stop, or its mount went away): not a crash. */
  private processGone(id: string, pid: number, cleanExit = false): void {
    if (this.closing || this.handled.has(pid)) return;
    this.handled.add(pid);
    if (this.retiring.delete(pid)) return;
    const record = this.options.store.get(id);
    if (!record || record.pid !== pid || record.status !== 'running') return;
    const mountpoint = record.state?.mountpoint;
    if (cleanExit || (mountpoint && !isFuseMounted(mountpoint))) {
      record.status = 'stopped';
      this.options.store.persist(record);
      this.options.logger.warn('daemon ended and its mount is gone or was left on purpose: not failing over', { id, pid, cleanExit, mountpoint });
      return;
    }
    if (this.crashLooping(record)) {
      record.status = 'dead';
      this.options.store.persist(record);
      this.options.logger.error('daemon keeps dying: giving up on failover', { id, pid });
      return;
    }
    const noticedAt = Date.now();
    this.options.logger.warn('daemon died: failing over', { id, pid });
    void this.serialise(id, async () => {
      const [standby] = await Promise.all([this.standbys.take(id, record.binary), this.linkDrained(pid, 2000)]);
      return this.finish(record, await failover(this.ctx, record, noticedAt, standby));
    }).catch((err: Error) =>
      this.options.logger.error('failover crashed', { id, error: err.message }),
    );
  }

  /** Five deaths in a row, each within 300 ms of the daemon starting to serve: the successor itself is broken. */
  private crashLooping(record: DaemonRecord): boolean {
    const quick = Date.now() - record.runningSince < 300;
    const streak = quick ? (this.quickDeaths.get(record.id) ?? 0) + 1 : 0;
    this.quickDeaths.set(record.id, streak);
    return streak >= 5;
  }

  private finish(record: DaemonRecord, result: HandoverReport): HandoverReport {
    record.lastHandover = result;
    this.options.store.persist(record);
    this.options.logger.info(result.ok ? 'handover done' : 'handover failed', { ...result });
    if (record.status === 'running') this.standbys.prepare(record);
    return result;
  }

  private requireRecord(id: string): DaemonRecord {
    const record = this.options.store.get(id);
    if (!record) throw new Error(`No daemon "${id}" is supervised here`);
    return record;
  }

  private serialise<T>(id: string, work: () => Promise<T>): Promise<T> {
    const run = (this.queues.get(id) ?? Promise.resolve()).then(work);
    this.queues.set(id, run.catch(() => undefined));
    return run;
  }
}
