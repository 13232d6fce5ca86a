/**
 * The daemon object: identity (id, supervisor, version), the lifecycle state machine and what its actions act on:
 * the FUSE session, the VFS that stacks filesystem instances under the mount, and the backend factory. It is what
 * the gRPC API and nydusd's signal handlers call. It does not speak gRPC, parse flags or exit the process: when
 * the machine reaches Die it emits 'die' ({ unmounted }) and the CLI decides how to end.
 *
 * Lifecycle (seed's semantics): start-up is Mount (session mounted) then Start (serving); with `upgrade` it stays
 * INIT until Takeover. Stop (RUNNING -> READY) stops reading requests, the mount stays and applications block;
 * Start resumes. Exit ends WITHOUT unmounting (a successor takes the connection); stop() (SIGTERM) unmounts.
 */
import { EventEmitter } from 'events';
import { NydusError, wrapError } from '../errors';
import { mountInto, umountFrom } from './mounts';
import { createLogger, Logger } from '../log';
import { FsMetricsReport, metricsReports } from './metrics';
import type { BackendFactory, SessionMounter, SessionPort, VfsInstance, VfsPort } from './ports';
import { DaemonAction, DaemonStateMachine, MachineState, TransitionRule } from './state-machine';
import { DaemonState, FailoverPolicy, MountCommand } from './types';
import { noSupervisorUpgradeManager, UpgradeManager } from './upgrade-port';
import { versionInfo, VersionInfo } from './version';

export interface DaemonOptions {
  mountpoint: string;
  id?: string;
  supervisor?: string;
  /** Start in INIT and wait for Takeover (hot upgrade / failover successor). */
  upgrade?: boolean;
  failoverPolicy?: FailoverPolicy;
  mountSession: SessionMounter;
  vfs: VfsPort;
  createBackend: BackendFactory;
  upgradeManager?: UpgradeManager;
  logger?: Logger;
  /** Longest busy-poll window of the FUSE reader, in microseconds (0 or absent: off). */
  busyPollUs?: number;
  /** Read threads of a session taken over from a predecessor (see FuseSession); absent: the default. */
  readThreads?: number;
  /**
   * Mount read-only (nydusd with a root filesystem and without --writable): the kernel refuses writes itself and
   * keeps atimes as they are; a filesystem that could be written (FileSystem.writable) may not join.
   */
  readOnlyMount?: boolean;
}

/** How long a successor waits after Start before pushing its full state to the supervisor. */
const SUCCESSOR_PUSH_DELAY_MS = 100;

export interface DieEvent {
  /** false after Exit: the mount stays for a successor. */
  unmounted: boolean;
}

export class Daemon extends EventEmitter {
  readonly id: string;
  readonly supervisor: string;
  readonly mountpoint: string;
  readonly upgrade: boolean;
  readonly failoverPolicy: FailoverPolicy;
  readonly readThreads: number | undefined;
  readonly readOnlyMount: boolean;
  /**
   * Package, git commit, build time; worked out at the first ask (DaemonInfo), not at start-up: it runs git, which
   * took 18 ms of a fresh daemon's start in a CPU profile, before the mount.
   */
  get version(): VersionInfo {
    return versionInfo();
  }
  private vfsRef: VfsPort;
  readonly createBackend: BackendFactory;
  readonly machine: DaemonStateMachine;
  private sessionRef: SessionPort | undefined;
  private readonly mountSession: SessionMounter;
  private readonly upgradeManager: UpgradeManager;
  private readonly logger: Logger;
  private readonly busyPollUs: number;
  /** Serialises Mount/Umount requests so two for the same path cannot interleave. */
  private mountQueue: Promise<unknown> = Promise.resolve();

  constructor(options: DaemonOptions) {
    super();
    this.id = options.id ?? '';
    this.supervisor = options.supervisor ?? '';
    this.mountpoint = options.mountpoint;
    this.upgrade = options.upgrade ?? false;
    this.failoverPolicy = options.failoverPolicy ?? 'resend';
    this.mountSession = options.mountSession;
    this.vfsRef = options.vfs;
    this.createBackend = options.createBackend;
    this.upgradeManager = options.upgradeManager ?? noSupervisorUpgradeManager;
    this.logger = options.logger ?? createLogger('daemon');
    this.busyPollUs = options.busyPollUs ?? 0;
    this.readThreads = options.readThreads;
    this.readOnlyMount = options.readOnlyMount ?? false;
    this.machine = new DaemonStateMachine((action, rule) => this.runAction(action, rule), this.logger);
  }

  get state(): DaemonState {
    return this.machine.daemonState;
  }

  get session(): SessionPort | undefined {
    return this.sessionRef;
  }

  get kernelPassthrough(): boolean {
    return this.sessionRef?.kernelPassthrough ?? false;
  }

  get vfs(): VfsPort {
    return this.vfsRef;
  }

  /** For the upgrade manager's Restore: the live connection taken over from the predecessor. */
  adoptSession(session: SessionPort): void {
    if (this.sessionRef) throw new NydusError('AlreadyExists', 'The daemon already has a FUSE session');
    this.sessionRef = session;
    this.wireSession();
  }

  /** For Restore: the namespace rebuilt from the predecessor's state (only while nothing is served yet). */
  adoptVfs(vfs: VfsPort): void {
    if (this.machine.state !== 'Init') throw new NydusError('UnexpectedEvent', 'The VFS can only be replaced during takeover');
    this.vfsRef = vfs;
    this.wireSession();
  }

  /**
   * Names the VFS drops (sub-filesystem unmounted) are dropped from the kernel's dentry cache too, and a retired
   * instance is destroyed once the kernel has forgotten its last node; the end of the connection is reported as
   * 'connection-ended'; the reader gets the daemon's busy-poll setting.
   */
  private wireSession(): void {
    const session = this.sessionRef;
    if (!session) return;
    session.onEnd = (errno) => this.emit('connection-ended', errno);
    session.setBusyPoll?.(this.busyPollUs);
    this.vfsRef.onRetiredDrained = (instance) => {
      // No read thread may keep reading its files' fds once they are closed.
      this.sessionRef?.dropUnopenedReads?.();
      Promise.resolve(instance.fs.destroy?.()).then(
        () => this.logger.info('retired filesystem released: the kernel holds none of its files any more', { mountpoint: instance.mountpoint }),
        (err) => this.logger.warn('filesystem destroy failed', { mountpoint: instance.mountpoint, err }));
      this.stateChanged('retired released');
    };
    if (!session.notifyInvalEntry) return;
    this.vfsRef.onInvalidate = (parent, name) => {
      const rc = session.notifyInvalEntry?.(parent, name);
      if (typeof rc === 'number' && rc < 0) this.logger.debug('FUSE_NOTIFY_INVAL_ENTRY failed', { parent, errno: -rc });
    };
  }

  /**
   * Start-up. Normal: open the root filesystem (if any), mount the session, Mount, Start. With `upgrade`: stay
   * INIT and wait for Takeover.
   */
  async bootstrap(root?: MountCommand): Promise<void> {
    if (this.upgrade) {
      this.logger.info('waiting for takeover', { state: 'INIT' });
      return;
    }
    if (root) await this.mount(root);
    this.sessionRef = await this.mountSession({
      mountpoint: this.mountpoint, fsName: root?.source, logger: this.logger, readOnly: this.readOnlyMount,
    });
    this.wireSession();
    await this.machine.fire('Mount');
    await this.machine.fire('Start');
  }

  // Events, as the API exposes them.
  start(): Promise<MachineState> {
    return this.machine.fire('Start');
  }

  /** The Stop event alone (RUNNING -> READY: stop serving, keep the mount). */
  stopService(): Promise<MachineState> {
    return this.machine.fire('Stop');
  }

  takeover(): Promise<MachineState> {
    return this.machine.fire('Takeover');
  }

  /**
   * Seed's stop(): end the daemon and unmount. From RUNNING: Stop then Stop; from READY or INIT: Stop. Decided
   * and run as one queued unit, so an event queued just before cannot turn it into something else.
   */
  stop(): Promise<MachineState> {
    return this.machine.fireSequence((state) => (state === 'Running' ? ['Stop', 'Stop'] : ['Stop']));
  }

  /** Seed's trigger_exit(): end WITHOUT unmounting. From RUNNING: Stop then Exit; from READY: Exit; from INIT: Stop. */
  triggerExit(): Promise<MachineState> {
    return this.machine.fireSequence((state) => (state === 'Running' ? ['Stop', 'Exit'] : state === 'Init' ? ['Stop'] : ['Exit']));
  }

  async sendFuseFd(): Promise<void> {
    if (!this.sessionRef) throw new NydusError('NotReady', 'There is no FUSE session to send yet');
    await this.upgradeManager.sendState(this);
  }

  /** Adds a filesystem instance at `command.mountpoint` ("/" or "/sub") of the FUSE mount. */
  mount(command: MountCommand): Promise<number> {
    return this.serialiseMount(async () => {
      this.requireAlive('mount a filesystem');
      const index = await mountInto(this.vfsRef, this.createBackend, command, (fs) => (this.readOnlyMount && fs.writable
        ? 'this mount is read-only (nydusd was started without --writable)' : undefined));
      this.logger.info('filesystem mounted', { mountpoint: command.mountpoint, fsType: command.fsType, source: command.source, index });
      this.stateChanged('mount');
      return index;
    });
  }

  umount(mountpoint: string): Promise<void> {
    return this.serialiseMount(async () => {
      this.requireAlive('unmount a filesystem');
      this.sessionRef?.dropUnopenedReads?.();
      const { destroyError, retired } = await umountFrom(this.vfsRef, mountpoint);
      if (destroyError) this.logger.warn('filesystem destroy failed', { mountpoint, err: destroyError });
      if (retired) this.logger.info('filesystem unmounted; kept serving the files the kernel still holds', { mountpoint });
      else this.logger.info('filesystem unmounted', { mountpoint });
      this.stateChanged('umount');
    });
  }

  instances(): VfsInstance[] {
    return this.vfsRef.list();
  }

  /** The whole session first (mountpoint ""), then one report per filesystem instance. */
  metrics(): FsMetricsReport[] {
    return metricsReports(this.sessionRef?.metrics, this.vfsRef.list());
  }

  private serialiseMount<T>(work: () => Promise<T>): Promise<T> {
    const run = this.mountQueue.then(work);
    this.mountQueue = run.catch(() => undefined);
    return run;
  }

  /** Not after Die, nor while a successor waits for Takeover (the restored state would overwrite it). */
  private requireAlive(what: string): void {
    if (this.machine.state === 'Die') throw new NydusError('NotReady', `Cannot ${what}: the daemon is stopping`);
    if (this.upgrade && this.machine.state === 'Init') {
      throw new NydusError('NotReady', `Cannot ${what}: the daemon is waiting for takeover`);
    }
  }

  private requireSession(what: string): SessionPort {
    if (!this.sessionRef) throw new NydusError('NotReady', `Cannot ${what}: there is no FUSE session`);
    return this.sessionRef;
  }

  /** With a supervisor, every change worth surviving a crash is pushed; failures are logged, not fatal. */
  private stateChanged(reason: string): void {
    if (!this.supervisor || !this.sessionRef) return;
    this.upgradeManager
      .sendState(this)
      .then(() => this.logger.debug('state sent to supervisor', { reason }))
      .catch((err: unknown) => this.logger.warn('cannot send state to supervisor', { reason, err }));
  }

  private async runAction(action: DaemonAction, rule: TransitionRule): Promise<void> {
    this.logger.debug('running action', { action, event: rule.event });
    switch (action) {
      case 'Restore':
        try {
          await this.upgradeManager.restore(this);
        } catch (err) {
          throw wrapError('Upgrade', 'Takeover failed', err);
        }
        return;
      case 'StartService': {
        const session = this.requireSession('start serving');
        try {
          session.start(this.vfsRef);
        } catch (err) {
          throw wrapError('StartService', 'Cannot start serving', err);
        }
        // With a supervisor, state goes out once the kernel's INIT has been answered, never before. A successor's
        // supervisor already holds the state it restored (changes since travel as deltas): its full push waits a
        // little, so that capturing and encoding it does not hold up the requests queued during the handover.
        if (this.supervisor) {
          session.waitInit().then(
            () => {
              if (this.upgrade) setTimeout(() => this.stateChanged('init'), SUCCESSOR_PUSH_DELAY_MS);
              else this.stateChanged('init');
            },
            (err: unknown) => this.logger.warn('FUSE INIT did not complete', { err }),
          );
        }
        return;
      }
      case 'TerminateService':
        try {
          await this.requireSession('stop serving').stop();
        } catch (err) {
          throw wrapError('ServiceStop', 'Cannot stop serving', err);
        }
        return;
      case 'Umount':
        try {
          this.sessionRef?.umount();
        } catch (err) {
          throw wrapError('SessionShutdown', `Cannot unmount ${this.mountpoint}`, err);
        }
        await this.destroyFilesystems();
        this.die({ unmounted: true });
        return;
      case 'StopStateMachine':
        this.sessionRef?.close();
        this.die({ unmounted: false });
        return;
    }
  }

  private async destroyFilesystems(): Promise<void> {
    for (const instance of [...this.vfsRef.list(), ...(this.vfsRef.retired?.() ?? [])]) {
      await Promise.resolve(instance.fs.destroy?.()).catch(() => undefined);
    }
  }

  private die(event: DieEvent): void {
    // After the transition completes (the action runs before the machine moves).
    setImmediate(() => this.emit('die', event));
  }
}
