/** Starts the API server on a fresh Unix socket over a Daemon built from fakes; tears everything down after. */
import type { UpgradeManager } from '../../daemon/src/service/upgrade-port';
import type { ExecutionContext } from 'ava';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { connectDaemon, DaemonClient } from '../../daemon/src/api/client';
import { ApiServer, startApiServer } from '../../daemon/src/api/server';
import { Daemon } from '../../daemon/src/service/daemon';
import type { BackendFactory } from '../../daemon/src/service/ports';
import { fakeParts } from '../service/fakes';

export interface Harness {
  dir: string;
  socketPath: string;
  daemon: Daemon;
  server: ApiServer;
  client: DaemonClient;
  parts: ReturnType<typeof fakeParts>;
}

export async function startHarness(
  t: ExecutionContext,
  options: { upgrade?: boolean; createBackend?: BackendFactory; upgradeManager?: UpgradeManager } = {},
): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nydus-api-'));
  const socketPath = path.join(dir, 'api.sock');
  const parts = fakeParts();
  const daemon = new Daemon({
    ...parts,
    ...(options.createBackend ? { createBackend: options.createBackend } : {}),
    ...(options.upgradeManager ? { upgradeManager: options.upgradeManager, supervisor: '/run/fake-supervisor.sock' } : {}),
    mountpoint: '/mnt/fake',
    id: 'daemon-1',
    upgrade: options.upgrade,
  });
  await daemon.bootstrap({ fsType: 'passthrough_fs', source: dir, config: '', mountpoint: '/', prefetchFiles: [] });
  const server = await startApiServer({ socketPath, control: daemon });
  const client = connectDaemon(socketPath);
  t.teardown(async () => {
    client.close();
    await server.close(200);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { dir, socketPath, daemon, server, client, parts };
}

/** The error a call rejected with: grpc code and details. */
export async function callError(promise: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await promise;
  } catch (err) {
    const { code, details } = err as { code: number; details: string };
    return { code, details };
  }
  throw new Error('the call succeeded but was expected to fail');
}
