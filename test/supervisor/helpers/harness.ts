/** Test plumbing: temp dirs, an in-process supervisor server with a store, fd counting and fstat identity. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createLogger } from '../../../daemon/src/log';
import { AT_EMPTY_PATH, native } from '../../../daemon/src/native';
import { SupervisorServer, ServerHooks } from '../../../supervisor/src/server';
import { DaemonStore } from '../../../supervisor/src/store';

export function tempDir(prefix = 'nydus-sup-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A path `name` in a fresh directory that the test's teardown removes. */
export function tempPath(t: { teardown(fn: () => void): void }, name: string): string {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, name);
}

export function openFdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

export function identity(fd: number): string {
  const out = new Float64Array(16);
  const rc = native.fstatat(fd, '', AT_EMPTY_PATH, out);
  if (rc < 0) throw new Error(`fstat(${fd}) failed: ${rc}`);
  return `${out[0]}:${out[1]}`;
}

export interface ServerHarness {
  dir: string;
  sock: string;
  server: SupervisorServer;
  store: DaemonStore;
  close(): void;
}

export function startServer(options: { hooks?: Partial<ServerHooks>; frameTimeoutMs?: number; firstFrameTimeoutMs?: number; stateDir?: string } = {}): ServerHarness {
  const dir = tempDir();
  const sock = path.join(dir, 'sup.sock');
  const logger = createLogger('test-supervisor');
  const store = new DaemonStore(options.stateDir, logger);
  const hooks: ServerHooks = {
    onLink: () => undefined,
    resendFor: () => false,
    onControl: async (command) => ({ echo: command }),
    ...options.hooks,
  };
  const server = new SupervisorServer({
    sockPath: sock, store, hooks, logger,
    limits: options.frameTimeoutMs ? { frameTimeoutMs: options.frameTimeoutMs } : {},
    firstFrameTimeoutMs: options.firstFrameTimeoutMs,
  });
  server.listen();
  return {
    dir, sock, server, store,
    close() {
      server.close();
      store.closeAllFds();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export { eventually } from '../../helpers/eventually';
