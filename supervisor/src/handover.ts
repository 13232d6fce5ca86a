/**
 * The two ways a daemon is replaced while its mount stays alive:
 * - hotUpgrade(): the successor is started first (Node start-up is slow: keep it out of the handover), then the
 *   old daemon Stops (finishing what it has in flight) and sends its final state and fds, the successor Takes
 *   over and Starts, and only then does the old one Exit (without unmounting). Until the successor is RUNNING
 *   the old daemon can Start again: that is the rollback.
 * - failover(): the daemon died; a successor fetches the last state the supervisor holds, restores it and,
 *   because the dead daemon may have read requests it never answered, sends FUSE_NOTIFY_RESEND.
 * Each successor gets its own API socket (`<apisock>.g<N>`), renamed to the daemon's socket once the
 * predecessor is gone (an exiting daemon unlinks the path it was started with, which is then no longer ours).
 */
import * as fs from 'fs';
import { Logger } from '../../daemon/src/log';
import { DaemonApi } from './daemon-api';
import { isAlive, spawnDaemon, SpawnedDaemon, waitForExit } from './process';
import { DaemonRecord, DaemonStore, HandoverReport } from './store';

export interface HandoverContext {
  store: DaemonStore;
  sockPath: string;
  logger: Logger;
  logFileOf(id: string): string;
  /** Starts watching a spawned process (its death is reported to the manager). */
  track(id: string, spawned: SpawnedDaemon): void;
  /** `pid` is expected to end: its death is not a crash. */
  retire(pid: number): void;
  setResend(id: string, on: boolean): void;
  /** A fresh API socket path for a successor of `record`. */
  successorApiSock(record: DaemonRecord): string;
  readyTimeoutMs: number;
}

export interface Successor {
  binary: string;
  spawned: SpawnedDaemon;
  api: DaemonApi;
  apiSock: string;
}

/** Starts `binary` with --upgrade for `record` and waits until its API answers in INIT. */
export async function startSuccessor(ctx: HandoverContext, record: DaemonRecord, binary: string,
  onSpawn?: (pid: number) => void): Promise<Successor> {
  const apiSock = ctx.successorApiSock(record);
  fs.rmSync(apiSock, { force: true });
  const spawned = spawnDaemon({
    binary, args: record.args, id: record.id, supervisorSock: ctx.sockPath, apiSock, upgrade: true, logFile: ctx.logFileOf(record.id),
  });
  ctx.track(record.id, spawned);
  onSpawn?.(spawned.pid);
  const api = new DaemonApi(apiSock);
  try {
    await api.waitReady(ctx.readyTimeoutMs, 'INIT', () => isAlive(spawned.pid));
  } catch (err) {
    await discardSuccessor(ctx, { binary, spawned, api, apiSock });
    throw err;
  }
  return { binary, spawned, api, apiSock };
}

export async function discardSuccessor(ctx: HandoverContext, successor: Successor): Promise<void> {
  ctx.retire(successor.spawned.pid);
  successor.api.close();
  try {
    process.kill(successor.spawned.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  await waitForExit(successor.spawned.pid, 5000);
  fs.rmSync(successor.apiSock, { force: true });
}

/** Records how long each step took. */
class StepClock {
  readonly steps: Record<string, number> = {};
  private last = Date.now();

  lap(name: string): void {
    const now = Date.now();
    this.steps[name] = now - this.last;
    this.last = now;
  }
}

/** Takeover + Start on the successor, in one call; resolves when it is RUNNING. */
async function bringUp(successor: Successor, clock: StepClock): Promise<void> {
  const after = await successor.api.event('Takeover', { start: true });
  clock.lap('takeover');
  if (after !== 'RUNNING') throw new Error(`after Takeover and Start the successor is ${after}, not RUNNING`);
}

/** The successor is now the daemon: record it, and give it the daemon's API socket once `oldPid` is gone. */
async function promote(ctx: HandoverContext, record: DaemonRecord, successor: Successor, binary: string, oldPid: number): Promise<void> {
  record.pid = successor.spawned.pid;
  record.binary = binary;
  record.status = 'running';
  record.runningSince = Date.now();
  record.handovers += 1;
  if (oldPid > 0 && !(await waitForExit(oldPid, 10_000))) {
    ctx.logger.warn('the old daemon did not exit after Exit; killing it', { id: record.id, pid: oldPid });
    try {
      process.kill(oldPid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    await waitForExit(oldPid, 5000);
  }
  fs.renameSync(successor.apiSock, record.apiSock);
  successor.api.close();
}

function report(kind: HandoverReport['kind'], ok: boolean, startedAt: number, fromPid: number, toPid: number, binary: string, message: string): HandoverReport {
  return { kind, ok, at: new Date().toISOString(), durationMs: Date.now() - startedAt, fromPid, toPid, binary, message };
}

/** `ready`: a standby successor already waiting in INIT (same binary), used instead of starting one. */
export async function hotUpgrade(ctx: HandoverContext, record: DaemonRecord, binary: string, ready?: Successor): Promise<HandoverReport> {
  if (record.status !== 'running' || !isAlive(record.pid)) throw new Error(`Daemon ${record.id} is not running (status ${record.status})`);
  const oldPid = record.pid;
  const oldApi = new DaemonApi(record.apiSock);
  record.status = 'upgrading';
  let successor: Successor | undefined;
  let stoppedAt = 0;
  const clock = new StepClock();
  try {
    successor = ready ?? (await startSuccessor(ctx, record, binary));
    // Connect now, not during the handover; and a successor that does not answer never gets to stop the old daemon.
    await Promise.all([oldApi.info(), successor.api.info()]);
    clock.lap('prepare');
    stoppedAt = Date.now();
    await oldApi.event('Stop');
    clock.lap('stop');
    await oldApi.sendFuseFd();
    clock.lap('sendfd');
    await bringUp(successor, clock);
    const handoverMs = Date.now() - stoppedAt;
    ctx.retire(oldPid);
    await oldApi.event('Exit').catch((err: Error) => ctx.logger.warn('Exit of the old daemon failed', { error: err.message }));
    await promote(ctx, record, successor, binary, oldPid);
    clock.lap('retire');
    const done = report('upgrade', true, stoppedAt, oldPid, record.pid, binary, `upgraded ${record.id}: pid ${oldPid} -> ${record.pid}`);
    done.durationMs = handoverMs;
    done.steps = clock.steps;
    return done;
  } catch (err) {
    const reason = (err as Error).message;
    ctx.logger.error('hot upgrade failed, rolling back', { id: record.id, reason });
    if (successor) await discardSuccessor(ctx, successor);
    let rolledBack = 'the old daemon kept serving';
    if (stoppedAt) {
      try {
        await oldApi.event('Start');
        rolledBack = 'the old daemon was started again';
      } catch (startErr) {
        rolledBack = `the old daemon could not be started again: ${(startErr as Error).message}`;
      }
    }
    record.status = isAlive(oldPid) ? 'running' : 'dead';
    return report('upgrade', false, stoppedAt || Date.now(), oldPid, oldPid, record.binary, `upgrade of ${record.id} failed (${reason}); ${rolledBack}`);
  } finally {
    oldApi.close();
  }
}

export async function failover(ctx: HandoverContext, record: DaemonRecord, noticedAt: number, ready?: Successor): Promise<HandoverReport> {
  const deadPid = record.pid;
  record.status = 'failing-over';
  if (!record.live || record.fdsLost) {
    if (ready) await discardSuccessor(ctx, ready);
    record.status = 'dead';
    return report('failover', false, noticedAt, deadPid, 0, record.binary, `daemon ${record.id} died and no state with fds is held: cannot fail over`);
  }
  ctx.setResend(record.id, true);
  let lastError = '';
  if (ready) ctx.logger.info('failing over to the standby successor', { id: record.id, pid: ready.spawned.pid });
  for (let attempt = 1; attempt <= 3; attempt++) {
    let successor: Successor | undefined;
    const clock = new StepClock();
    try {
      successor = attempt === 1 && ready ? ready : await startSuccessor(ctx, record, record.binary);
      clock.lap('prepare');
      await bringUp(successor, clock);
      ctx.setResend(record.id, false);
      const servingAt = Date.now();
      await promote(ctx, record, successor, record.binary, 0);
      const done = report('failover', true, noticedAt, deadPid, record.pid, record.binary, `daemon ${record.id} (pid ${deadPid}) died; pid ${record.pid} took over`);
      done.durationMs = servingAt - noticedAt;
      done.steps = clock.steps;
      return done;
    } catch (err) {
      lastError = (err as Error).message;
      ctx.logger.error('failover attempt failed', { id: record.id, attempt, error: lastError });
      if (successor) await discardSuccessor(ctx, successor);
    }
  }
  ctx.setResend(record.id, false);
  record.status = 'dead';
  return report('failover', false, noticedAt, deadPid, 0, record.binary, `failover of ${record.id} failed 3 times: ${lastError}`);
}
