/**
 * What the supervisor knows per daemon id: the latest handover state (envelope bytes, decoded), the descriptors
 * that came with it, and how the daemon runs (pid, API socket, binary, flags, status, last handover). Replacing a
 * state closes the descriptors it replaces. With a state directory, everything but the descriptors is written
 * to `<dir>/<id>.json` (0600, atomically, off the event loop) so a restarted supervisor still knows its daemons;
 * it then marks their descriptors lost until the daemons send them again.
 */
import * as fs from 'fs';
import * as path from 'path';
import { decodeHandover } from '../../daemon/src/upgrade/state-codec';
import { HandoverState } from '../../daemon/src/upgrade/state-types';
import { Logger } from '../../daemon/src/log';
import { closeAll } from '../../daemon/src/upgrade/channel';
import type { StateDeltaMessage } from '../../daemon/src/upgrade/table-tracker';
import { LiveState } from './live-state';

const PERSIST_DELAY_MS = 100;

function fileContents(record: DaemonRecord): string {
  const data: PersistedRecord = {
    id: record.id, envelope: record.envelope ? record.envelope.toString('base64') : '', pid: record.pid, apiSock: record.apiSock,
    binary: record.binary, args: record.args, status: record.status, lastHandover: record.lastHandover, handovers: record.handovers,
    lastStateAt: record.lastStateAt,
  };
  return JSON.stringify(data);
}

export type DaemonStatus = 'starting' | 'running' | 'upgrading' | 'failing-over' | 'dead' | 'stopped' | 'unknown';

export interface HandoverReport {
  kind: 'upgrade' | 'failover';
  ok: boolean;
  at: string;
  /** Old daemon stopped -> successor RUNNING (upgrade); death noticed -> successor RUNNING (failover). */
  durationMs: number;
  fromPid: number;
  toPid: number;
  binary: string;
  message: string;
  /** Milliseconds per step (stop, sendfd, takeover, start, ...). */
  steps?: Record<string, number>;
}

export interface DaemonRecord {
  id: string;
  envelope: Buffer | null;
  state: HandoverState | null;
  stateVersion: number;
  /** The latest state's descriptors (owned by the supervisor) with the deltas applied since; null when none. */
  live: LiveState | null;
  /** True after a supervisor restart until the daemon sends its state again. */
  fdsLost: boolean;
  pid: number;
  apiSock: string;
  binary: string;
  /** nydusd flags as given to `run`, without the ones the supervisor adds. */
  args: string[];
  status: DaemonStatus;
  /** When the current process started serving (ms since the epoch). */
  runningSince: number;
  linked: boolean;
  statesReceived: number;
  lastStateAt: string;
  lastHandover: HandoverReport | null;
  handovers: number;
}

interface PersistedRecord {
  id: string;
  envelope: string;
  pid: number;
  apiSock: string;
  binary: string;
  args: string[];
  status: DaemonStatus;
  lastHandover: HandoverReport | null;
  handovers: number;
  lastStateAt: string;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function validateDaemonId(id: string): void {
  if (!ID_PATTERN.test(id)) throw new RangeError(`Invalid daemon id "${id}": use letters, digits, ".", "_" or "-" (at most 128)`);
}

export class DaemonStore {
  private readonly records = new Map<string, DaemonRecord>();

  constructor(private readonly stateDir: string | undefined, private readonly logger: Logger) {
    if (stateDir) fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  }

  get(id: string): DaemonRecord | undefined {
    return this.records.get(id);
  }

  all(): DaemonRecord[] {
    return [...this.records.values()];
  }

  /** The record for `id`, created empty if new. */
  ensure(id: string): DaemonRecord {
    validateDaemonId(id);
    let record = this.records.get(id);
    if (!record) {
      record = {
        id, envelope: null, state: null, stateVersion: 0, live: null, fdsLost: false, pid: 0, apiSock: '', binary: '', args: [],
        status: 'unknown', runningSince: 0, linked: false, statesReceived: 0, lastStateAt: '', lastHandover: null, handovers: 0,
      };
      this.records.set(id, record);
    }
    return record;
  }

  /** Stores a new state and its fds (taking ownership), closing the descriptors it replaces. */
  saveState(id: string, envelope: Buffer, state: HandoverState, version: number, fds: number[]): DaemonRecord {
    const record = this.ensure(id);
    const replaced = record.live;
    record.envelope = envelope;
    record.state = state;
    record.stateVersion = version;
    record.live = new LiveState(state, fds);
    record.fdsLost = false;
    record.statesReceived += 1;
    record.lastStateAt = new Date().toISOString();
    if (!record.apiSock) record.apiSock = state.apiSock; // the supervisor names successors' sockets itself
    if (state.pid) record.pid = state.pid;
    replaced?.close();
    this.persistSoon(record);
    return record;
  }

  /** Applies a table delta to the daemon's held state (taking ownership of `fds`); throws if it does not fit. */
  applyDelta(id: string, delta: StateDeltaMessage, fds: number[]): void {
    const live = this.records.get(id)?.live;
    if (!live) {
      closeAll(fds);
      throw new Error(`delta for daemon ${id}, of which no state is held`);
    }
    live.apply(delta, fds);
  }

  /** Drops the held state of `id` (a new daemon starts under that id): closes its descriptors. */
  clearState(id: string): void {
    const record = this.records.get(id);
    if (!record) return;
    record.live?.close();
    record.live = null;
    record.envelope = null;
    record.state = null;
    record.fdsLost = false;
  }

  /** Forgets a daemon and closes its descriptors. */
  remove(id: string): void {
    const record = this.records.get(id);
    if (!record) return;
    record.live?.close();
    this.records.delete(id);
    this.persist(record); // deletes the file, after any write still running
  }

  closeAllFds(): void {
    for (const record of this.records.values()) {
      record.live?.close();
      record.live = null;
    }
  }

  /** Records whose new state is written a moment later (see persistSoon). */
  private readonly persistTimers = new Map<string, NodeJS.Timeout>();

  /**
   * A state often arrives in the middle of a handover (the old daemon's final one): encoding the record for the
   * file waits PERSIST_DELAY_MS, so that it does not hold up the next step. The file is only read after a
   * supervisor restart, and a restarted supervisor asks the daemons for their states again anyway. Only the
   * first record of a daemon is written at once, synchronously, before its state is acknowledged: without it, a
   * supervisor killed right after would not know the daemon after its restart.
   */
  private persistSoon(record: DaemonRecord): void {
    if (!this.stateDir || this.persistTimers.has(record.id)) return;
    if (!this.onDisk.has(record.id) && !this.writes.has(record.id)) return this.writeFirstRecord(record);
    const timer = setTimeout(() => {
      this.persistTimers.delete(record.id);
      this.persist(record);
    }, PERSIST_DELAY_MS);
    this.persistTimers.set(record.id, timer.unref());
  }

  /** Ids whose file exists. */
  private readonly onDisk = new Set<string>();

  /** Per daemon id: the file write in progress, and whether the record changed again meanwhile. */
  private readonly writes = new Map<string, { running: Promise<void>; again: boolean }>();

  /**
   * Writes the record's file off the event loop (fs.promises: a synchronous write and rename on ext4 can wait
   * for a journal commit, and a state arrives in the middle of a handover). One write per id at a time; a change
   * made meanwhile is written once the running one ends. A removed record's file is deleted instead.
   */
  persist(record: DaemonRecord): void {
    if (!this.stateDir) return;
    const pending = this.writes.get(record.id);
    if (pending) {
      pending.again = true;
      return;
    }
    const entry = { running: Promise.resolve(), again: false };
    entry.running = this.writeUntilCurrent(record.id, entry);
    this.writes.set(record.id, entry);
  }

  private async writeUntilCurrent(id: string, entry: { again: boolean }): Promise<void> {
    do {
      entry.again = false;
      const record = this.records.get(id);
      const file = this.fileOf(id);
      try {
        if (record) {
          await this.writeRecord(record, file);
          this.onDisk.add(id);
        } else {
          this.onDisk.delete(id);
          await fs.promises.rm(file, { force: true });
        }
      } catch (err) {
        this.logger.error('cannot persist daemon record', { id, error: (err as Error).message });
      }
    } while (entry.again);
    this.writes.delete(id);
  }

  private async writeRecord(record: DaemonRecord, file: string): Promise<void> {
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.promises.writeFile(tmp, fileContents(record), { mode: 0o600 });
    await fs.promises.rename(tmp, file);
  }

  private writeFirstRecord(record: DaemonRecord): void {
    const file = this.fileOf(record.id);
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(tmp, fileContents(record), { mode: 0o600 });
      fs.renameSync(tmp, file);
      this.onDisk.add(record.id);
    } catch (err) {
      this.logger.error('cannot persist daemon record', { id: record.id, error: (err as Error).message });
    }
  }

  /** Resolves once every record change made so far is on disk. */
  async flush(): Promise<void> {
    for (const [id, timer] of this.persistTimers) {
      clearTimeout(timer);
      this.persistTimers.delete(id);
      const record = this.records.get(id);
      if (record) this.persist(record);
    }
    while (this.writes.size > 0) await Promise.all([...this.writes.values()].map((w) => w.running));
  }

  /** Reads every persisted record; their descriptors are lost until the daemons send them again. */
  load(): DaemonRecord[] {
    if (!this.stateDir) return [];
    const loaded: DaemonRecord[] = [];
    for (const name of fs.readdirSync(this.stateDir)) {
      if (!name.endsWith('.json')) continue;
      try {
        const data = JSON.parse(fs.readFileSync(path.join(this.stateDir, name), 'utf8')) as PersistedRecord;
        const record = this.ensure(data.id);
        Object.assign(record, {
          pid: data.pid, apiSock: data.apiSock, binary: data.binary, args: data.args ?? [], status: data.status,
          lastHandover: data.lastHandover, handovers: data.handovers ?? 0, lastStateAt: data.lastStateAt ?? '', fdsLost: true,
        });
        if (data.envelope) {
          record.envelope = Buffer.from(data.envelope, 'base64');
          const decoded = decodeHandover(record.envelope);
          record.state = decoded.state;
          record.stateVersion = decoded.version;
        }
        this.onDisk.add(data.id);
        loaded.push(record);
      } catch (err) {
        this.logger.error('ignoring unreadable daemon record', { file: name, error: (err as Error).message });
      }
    }
    return loaded;
  }

  private fileOf(id: string): string {
    return path.join(this.stateDir as string, `${id}.json`);
  }
}
