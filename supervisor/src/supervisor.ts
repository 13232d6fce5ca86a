/**
 * One supervisor instance (`nydus-supervisor serve`): the socket server, the per-daemon store (persisted to the
 * state directory if one is given) and the daemon manager, wired together; plus the operator commands that
 * arrive as Control frames (status, run, restart, stop).
 */
import * as path from 'path';
import { createLogger, Logger } from '../../daemon/src/log';
import { DaemonApi } from './daemon-api';
import { DaemonManager } from './daemon-manager';
import { isAlive } from './process';
import { SupervisorServer } from './server';
import { DaemonRecord, DaemonStore, HandoverReport } from './store';

export interface SupervisorOptions {
  sockPath: string;
  stateDir?: string;
  /** Where daemon logs and API sockets go; default: the state dir, else the socket's directory. */
  runDir?: string;
  logger?: Logger;
  readyTimeoutMs?: number;
  /** Keep a standby successor per daemon (default true): failover without waiting for Node to start. */
  standby?: boolean;
}

export interface DaemonStatusView {
  id: string;
  status: string;
  /** What the daemon's own API says (INIT, READY, RUNNING, ...), or "unreachable". */
  daemonState: string;
  pid: number;
  alive: boolean;
  linked: boolean;
  binary: string;
  apiSock: string;
  args: string[];
  stateVersion: number;
  stateSequence: number;
  fdsHeld: number;
  fdsLost: boolean;
  statesReceived: number;
  lastStateAt: string;
  handovers: number;
  lastHandover: HandoverReport | null;
}

async function daemonStateOf(record: DaemonRecord): Promise<string> {
  if (!record.apiSock || !isAlive(record.pid)) return 'unreachable';
  const api = new DaemonApi(record.apiSock);
  try {
    return (await api.info(500)).state;
  } catch {
    return 'unreachable';
  } finally {
    api.close();
  }
}

export class Supervisor {
  readonly store: DaemonStore;
  readonly manager: DaemonManager;
  readonly server: SupervisorServer;
  private readonly logger: Logger;

  constructor(readonly options: SupervisorOptions) {
    this.logger = options.logger ?? createLogger('supervisor');
    this.store = new DaemonStore(options.stateDir, this.logger);
    const runDir = options.runDir ?? options.stateDir ?? path.dirname(options.sockPath);
    this.manager = new DaemonManager({ sockPath: options.sockPath, runDir, store: this.store, logger: this.logger, readyTimeoutMs: options.readyTimeoutMs,
      standby: options.standby ?? true,
    });
    this.server = new SupervisorServer({
      sockPath: options.sockPath,
      store: this.store,
      logger: this.logger,
      hooks: {
        onLink: (link, channel) => this.manager.onLink(link, channel),
        resendFor: (id) => this.manager.resendFor(id),
        onControl: (command, args) => this.control(command, args),
      },
    });
  }

  /** Loads persisted records, re-adopts live daemons, listens. */
  start(): void {
    const loaded = this.store.load();
    this.server.listen();
    this.manager.adopt(loaded);
    this.logger.info('supervisor listening', { sock: this.options.sockPath, stateDir: this.options.stateDir, adopted: loaded.length });
  }

  /** Stops listening and closes every held descriptor; supervised daemons keep running. */
  close(): void {
    this.manager.close();
    this.server.close();
    this.store.closeAllFds();
  }

  async status(id?: string): Promise<DaemonStatusView[]> {
    const records = id ? [this.store.get(id)].filter((r): r is DaemonRecord => r !== undefined) : this.store.all();
    if (id && records.length === 0) throw new Error(`No daemon "${id}" is supervised here`);
    const states = await Promise.all(records.map((r) => daemonStateOf(r)));
    return records.map((r, i) => ({
      id: r.id, status: r.status, daemonState: states[i], pid: r.pid, alive: isAlive(r.pid), linked: this.manager.isLinked(r.pid), binary: r.binary, apiSock: r.apiSock,
      args: r.args, stateVersion: r.stateVersion, stateSequence: r.state?.sequence ?? 0, fdsHeld: r.live?.fdCount ?? 0, fdsLost: r.fdsLost,
      statesReceived: r.statesReceived, lastStateAt: r.lastStateAt, handovers: r.handovers, lastHandover: r.lastHandover,
    }));
  }

  private async control(command: string, args: unknown): Promise<unknown> {
    const a = (args ?? {}) as { id?: string; args?: string[]; binary?: string };
    switch (command) {
      case 'status':
        return this.status(a.id);
      case 'run': {
        if (!a.id || !Array.isArray(a.args)) throw new Error('run needs an id and the nydusd flags');
        const record = await this.manager.run(a.id, a.args.map(String), a.binary);
        return (await this.status(record.id))[0];
      }
      case 'restart':
        if (!a.id) throw new Error('restart needs a daemon id');
        return this.manager.restart(a.id, a.binary);
      case 'stop':
        if (!a.id) throw new Error('stop needs a daemon id');
        return this.manager.stop(a.id);
      default:
        throw new Error(`Unknown command "${command}": expected status, run, restart or stop`);
    }
  }
}
