/**
 * A promise-based client of the daemon API over its Unix socket, for nydusctl, the supervisor and tests. Errors
 * reject with the grpc-js ServiceError (code + details) so callers can show the server's message.
 */
import * as grpc from '@grpc/grpc-js';
import { loadDaemonProto } from './proto';

export type DaemonMethod =
  | 'ExportInfo'
  | 'Start'
  | 'Stop'
  | 'Exit'
  | 'Takeover'
  | 'SendFuseFd'
  | 'Mount'
  | 'Umount'
  | 'GetMetrics'
  | 'SetLogLevel';

export interface DaemonClient {
  call<T = Record<string, unknown>>(method: DaemonMethod, request?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  readonly raw: grpc.Client;
  close(): void;
}

export function connectDaemon(socketPath: string, options: grpc.ClientOptions = {}): DaemonClient {
  const { Client } = loadDaemonProto();
  const raw = new Client(`unix:${socketPath}`, grpc.credentials.createInsecure(), options);
  const methods = raw as unknown as Record<
    string,
    (request: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, reply: unknown) => void) => void
  >;
  return {
    raw,
    call: (method, request = {}, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        methods[method].call(raw, request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, reply) => {
          if (err) reject(err);
          else resolve(reply as never);
        });
      }),
    close: () => raw.close(),
  };
}
