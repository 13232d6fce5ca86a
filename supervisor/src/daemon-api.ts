/**
 * The supervisor's view of one daemon's control API (gRPC on its --apisock, proto/nydus/daemon/v1): lifecycle
 * calls with a deadline each, and waiting for the API to come up. Errors carry the daemon's own message.
 */
import { connectDaemon, DaemonClient, DaemonMethod } from '../../daemon/src/api/client';

export type DaemonStateName = 'INIT' | 'RUNNING' | 'READY' | 'STOPPED' | 'UNKNOWN';

export interface DaemonInfoSummary {
  id: string;
  state: DaemonStateName;
  pid: number;
  mountpoint: string;
}

function stateName(value: unknown): DaemonStateName {
  const text = String(value ?? '').replace(/^DAEMON_STATE_/, '');
  return (['INIT', 'RUNNING', 'READY', 'STOPPED'] as const).find((name) => name === text) ?? 'UNKNOWN';
}

export class DaemonApi {
  private readonly client: DaemonClient;

  constructor(readonly socketPath: string, private readonly timeoutMs = 15_000) {
    this.client = connectDaemon(socketPath);
  }

  close(): void {
    this.client.close();
  }

  async info(timeoutMs = this.timeoutMs): Promise<DaemonInfoSummary> {
    const reply = await this.client.call<{ id: string; state: unknown; pid: number; mountpoint: string }>('ExportInfo', {}, timeoutMs);
    return { id: reply.id, state: stateName(reply.state), pid: reply.pid, mountpoint: reply.mountpoint };
  }

  /** Calls a lifecycle event; resolves with the state the daemon reports afterwards. */
  async event(method: Extract<DaemonMethod, 'Start' | 'Stop' | 'Exit' | 'Takeover'>, request: Record<string, unknown> = {}): Promise<DaemonStateName> {
    try {
      const reply = await this.client.call<{ state: unknown }>(method, request, this.timeoutMs);
      return stateName(reply.state);
    } catch (err) {
      throw new Error(`${method} failed on ${this.socketPath}: ${(err as { details?: string }).details ?? (err as Error).message}`);
    }
  }

  async sendFuseFd(): Promise<void> {
    try {
      await this.client.call('SendFuseFd', {}, this.timeoutMs);
    } catch (err) {
      throw new Error(`SendFuseFd failed on ${this.socketPath}: ${(err as { details?: string }).details ?? (err as Error).message}`);
    }
  }

  /** Polls ExportInfo until it answers (and, if given, until the daemon is in `state`). */
  async waitReady(deadlineMs: number, state?: DaemonStateName, isAlive: () => boolean = () => true): Promise<DaemonInfoSummary> {
    const deadline = Date.now() + deadlineMs;
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (!isAlive()) throw new Error(`The daemon behind ${this.socketPath} exited before its API came up`);
      try {
        const info = await this.info(Math.max(100, Math.min(1000, deadline - Date.now())));
        if (!state || info.state === state) return info;
        last = `state ${info.state}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`The daemon API at ${this.socketPath} was not ready within ${deadlineMs} ms (${last})`);
  }
}
