/**
 * The daemon's UpgradeManager (service/upgrade-port.ts) when nydusd runs with --id and --supervisor: it links
 * to the supervisor at start-up, sends the state (capture.ts) when the daemon asks or the supervisor requests
 * it, and performs Takeover's Restore (fetch, restore.ts, then FUSE_NOTIFY_RESEND if the predecessor died and
 * the failover policy is "resend"). It also owns the result journal a successor needs after a crash.
 */
import * as path from 'path';
import type { Logger } from '../log';
import type { Daemon } from '../service/daemon';
import type { UpgradeManager } from '../service/upgrade-port';
import { captureHandover, exportTables } from './capture';
import { fetchState } from './client';
import { ResultJournal } from './journal';
import { SupervisorLink } from './link';
import { restoreHandover } from './restore';
import { TableTracker } from './table-tracker';
import { watchVfs } from './vfs-watch';
import { warmUp } from './warm-up';
import { guardResends, retireIntents, takeOpenIntents } from './resend-guard';

/** How long a successor lets inherited intents answer resent requests. */
const RESEND_WINDOW_MS = 5000;

export interface UpgradeManagerOptions {
  id: string;
  supervisor: string;
  failoverPolicy: string;
  logger: Logger;
  /** Defaults to the --apisock flag of this process. */
  apiSock?: string;
  /** Started with --upgrade: it will take a mount over, so it rehearses the restore while it waits. */
  successor?: boolean;
}

function flagValue(name: string): string {
  const argv = process.argv;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) return argv[i + 1] ?? '';
    if (argv[i].startsWith(`${name}=`)) return argv[i].slice(name.length + 1);
  }
  return '';
}

export class SupervisorUpgradeManager implements UpgradeManager {
  private daemon: Daemon | undefined;
  private sequence = 0;
  private readonly link: SupervisorLink;
  private readonly apiSock: string;
  /** Where this daemon's result journal lives: next to the supervisor socket, named after the daemon. */
  readonly journalPath: string;
  private journalRef: ResultJournal | undefined;
  private readonly tracker = new TableTracker();

  constructor(private readonly options: UpgradeManagerOptions) {
    this.apiSock = options.apiSock ?? flagValue('--apisock');
    this.journalPath = path.join(path.dirname(options.supervisor), `${options.id}.journal`);
    this.link = new SupervisorLink({
      supervisorSock: options.supervisor,
      daemonId: options.id,
      apiSock: this.apiSock,
      logger: options.logger,
      capture: () => this.capture(),
    });
    this.link.start();
    // A successor is started early and then waits: exercise the takeover's code now (see warm-up.ts).
    setImmediate(() => {
      try {
        warmUp(options.id, options.successor === true);
        // Reading the journal's ring takes milliseconds: a successor does it now, and again only after a crash.
        if (options.successor) this.journalRef ??= ResultJournal.open(this.journalPath);
      } catch (err) {
        options.logger.warn('warming up the takeover code failed', { error: (err as Error).message });
      }
    });
  }

  /** The journal the dispatcher should consult for resent requests (opened on first use). */
  get journal(): ResultJournal {
    this.journalRef ??= ResultJournal.open(this.journalPath);
    return this.journalRef;
  }

  sendState(daemon: Daemon): Promise<void> {
    this.attach(daemon);
    return this.link.push('daemon request');
  }

  /** Sends what changed in the passthrough tables since the supervisor last heard; synchronous. */
  flushDeltas(): void {
    if (!this.daemon || !this.tracker.tracking || !this.link.tracking) return;
    for (const tables of exportTables(this.daemon.vfs)) {
      const change = this.tracker.diff(tables);
      if (change) this.link.sendDelta(change.delta, change.fds);
    }
  }

  /** The intents the dead predecessor left open, read from the journal as it left it. */
  private inheritIntents(): Set<bigint> {
    try {
      this.journal.reload();
      return takeOpenIntents(this.journal);
    } catch (err) {
      this.options.logger.warn('cannot read the result journal', { error: (err as Error).message });
      return new Set();
    }
  }

  /** `inherited`: intents a crashed predecessor left open (see resend-guard.ts). */
  private attach(daemon: Daemon, inherited = new Set<bigint>()): void {
    this.daemon = daemon;
    watchVfs(daemon.vfs, () => this.flushDeltas());
    try {
      guardResends(daemon.vfs, this.journal, inherited);
    } catch (err) {
      this.options.logger.warn('no result journal: resent non-idempotent requests may fail', { error: (err as Error).message });
    }
  }

  async restore(daemon: Daemon): Promise<void> {
    const started = performance.now();
    const fetched = await fetchState(this.options.supervisor, this.options.id);
    const fetchedAt = performance.now();
    const inherited = fetched.resend ? this.inheritIntents() : new Set<bigint>();
    this.attach(daemon, inherited);
    if (inherited.size > 0) {
      // Resent requests arrive right after Start; later, an inherited intent must not mask a genuine error.
      setTimeout(() => retireIntents(this.journal, inherited), RESEND_WINDOW_MS).unref();
    }
    const { state, fds } = fetched;
    this.sequence = state.sequence;
    this.options.logger.info('restoring handover state', {
      from: state.pid, version: fetched.version, sequence: state.sequence, mounts: state.mounts.length, fds: fds.length, resend: fetched.resend,
    });
    const session = await restoreHandover(daemon, state, fds, this.options.logger);
    // The supervisor holds exactly what we restored: track changes from here, not from the first full push
    // (a successor killed before that push would otherwise leave the supervisor without its new handles).
    try {
      await this.link.adoptBaseline();
      this.tracker.reset(exportTables(daemon.vfs));
    } catch (err) {
      this.options.logger.warn('not linked to the supervisor: changes are tracked only after the first full state', { error: (err as Error).message });
    }
    this.options.logger.info('handover state restored', { fetchMs: +(fetchedAt - started).toFixed(1), restoreMs: +(performance.now() - fetchedAt).toFixed(1) });
    if (fetched.resend) {
      if (this.options.failoverPolicy !== 'resend') {
        this.options.logger.warn('predecessor died; failover policy is not "resend": its unanswered requests stay pending', { policy: this.options.failoverPolicy });
      } else if (!state.fuse?.hasResend) {
        this.options.logger.warn('predecessor died and this kernel has no FUSE_NOTIFY_RESEND: requests it had read may hang');
      } else {
        const rc = session.notifyResend();
        this.options.logger.info('sent FUSE_NOTIFY_RESEND', { rc });
      }
    }
  }

  stop(): void {
    this.link.stop();
    this.journalRef?.close();
  }

  private capture() {
    if (!this.daemon) return null;
    this.sequence += 1;
    const captured = captureHandover(this.daemon, { apiSock: this.apiSock, journalPath: this.journalPath, sequence: this.sequence });
    if (captured) this.tracker.reset(captured.tables);
    return captured;
  }
}

export function createUpgradeManager(options: UpgradeManagerOptions): SupervisorUpgradeManager {
  return new SupervisorUpgradeManager(options);
}
