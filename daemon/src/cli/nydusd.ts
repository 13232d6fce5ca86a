#!/usr/bin/env -S node --v8-pool-size=1
/**
 * nydusd: mounts a FUSE filesystem (passthrough_fs or rafs) and serves it until SIGTERM / SIGINT, then unmounts
 * and exits 0. Composes the parts: FuseSession (server/), Vfs (vfs/), the backends, the Daemon state machine
 * (service/) and the gRPC control API (api/). Exit codes: 0 after a clean stop or an Exit request (mount left for
 * a successor), 1 when start-up fails, 2 for bad flags.
 */
import type { ApiServer } from '../api/server';
import { configureLogOutput, createLogger, flushLog, setLogLevel } from '../log';
import { DEFAULT_INIT_OPTIONS } from '../server/init';
import { FuseSession } from '../server/session';
import { createBackendFactory } from '../service/backends';
import { Daemon, DieEvent } from '../service/daemon';
import { NYDUSD_USAGE, NydusdOptions, parseNydusdArgs, UsageError } from '../service/nydusd-options';
import { noSupervisorUpgradeManager, UpgradeManager } from '../service/upgrade-port';
import { versionInfo } from '../service/version';
import { Vfs } from '../vfs/vfs';

const logger = createLogger('nydusd');

/**
 * With --id and --supervisor: hot upgrade / failover support (daemon/src/upgrade, loaded only then: with its
 * protobuf codec it takes about 20 ms to load); else Unsupported.
 */
async function upgradeManagerFor(options: NydusdOptions): Promise<UpgradeManager> {
  if (!options.supervisor || !options.id) return noSupervisorUpgradeManager;
  const { createUpgradeManager } = await import('../upgrade/manager');
  return createUpgradeManager({
    id: options.id,
    supervisor: options.supervisor,
    failoverPolicy: options.failoverPolicy,
    logger: createLogger('upgrade'),
    apiSock: options.apisock,
    successor: options.upgrade,
  });
}

async function run(options: NydusdOptions): Promise<void> {
  const upgradeManager = await upgradeManagerFor(options);
  const daemon: Daemon = new Daemon({
    mountpoint: options.mountpoint,
    id: options.id,
    supervisor: options.supervisor,
    upgrade: options.upgrade,
    failoverPolicy: options.failoverPolicy,
    mountSession: (opts) => FuseSession.mount({
      ...opts,
      readThreads: options.threadNum,
      initOptions: {
        ...DEFAULT_INIT_OPTIONS,
        kernelPassthrough: options.kernelPassthrough,
        readAheadKb: options.readAheadKb ?? DEFAULT_INIT_OPTIONS.readAheadKb,
      },
    }),
    vfs: new Vfs({ openFiles: options.writable }),
    createBackend: createBackendFactory({
      warmUp: !options.upgrade,
      mountInUse: (): boolean => (daemon.session?.metrics?.applicationRequests ?? 0) > 0,
    }),
    upgradeManager,
    logger,
    busyPollUs: options.busyPollUs,
    readThreads: options.threadNum,
    readOnlyMount: options.root !== undefined && !options.writable,
  });

  let api: ApiServer | undefined;
  let ending = false;
  const end = async (code: number, why: string) => {
    if (ending) return;
    ending = true;
    logger.info('exiting', { code, why });
    upgradeManager.stop?.();
    await api?.close(500).catch(() => undefined);
    await flushLog();
    process.exit(code);
  };

  daemon.on('die', (event: DieEvent) => void end(0, event.unmounted ? 'stopped and unmounted' : 'exit requested; mount left in place'));
  // Also seen during our own Exit/stop (closing the fd ends the connection): give 'die' the first word.
  daemon.on('connection-ended', () => {
    setTimeout(() => void end(0, 'the FUSE connection ended (unmounted from outside)'), 1000).unref();
  });

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn('already stopping', { signal });
      return;
    }
    stopping = true;
    logger.info('signal received: unmounting', { signal });
    daemon.stop().catch((err: unknown) => {
      logger.error('clean stop failed; unmounting anyway', { err });
      try {
        daemon.session?.umount();
      } catch (umountErr) {
        logger.error('unmount failed', { err: umountErr });
      }
      void end(1, 'stop failed');
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  if (options.apisock) {
    // Loaded only for an API socket: gRPC and the proto files take about 40 ms to load.
    const { startApiServer } = await import('../api/server');
    api = await startApiServer({ socketPath: options.apisock, control: daemon, logger: createLogger('api') });
  }
  try {
    await daemon.bootstrap(options.root);
  } catch (err) {
    await api?.close(100).catch(() => undefined);
    throw err;
  }
  logger.info('nydusd started', {
    mountpoint: options.mountpoint,
    state: daemon.machine.state,
    root: options.root && { fsType: options.root.fsType, source: options.root.source },
    apisock: options.apisock,
    pid: process.pid,
  });
}

function main(argv: string[]): void {
  let command;
  try {
    command = parseNydusdArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`nydusd: ${err.message}\nRun "nydusd --help" for the flags.\n`);
      process.exit(2);
    }
    throw err;
  }
  if (command.kind === 'help') {
    process.stdout.write(NYDUSD_USAGE + '\n');
    return;
  }
  if (command.kind === 'version') {
    const v = versionInfo();
    process.stdout.write(`nydusd ${v.packageVer} (git ${v.gitCommit}, built ${v.buildTime}, node ${v.node})\n`);
    return;
  }
  const options = command.options;
  setLogLevel(options.logLevel);
  if (options.logFile) configureLogOutput(options.logFile);
  run(options).catch(async (err: unknown) => {
    logger.error('start-up failed', { err });
    await flushLog();
    process.stderr.write(`nydusd: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

main(process.argv.slice(2));
