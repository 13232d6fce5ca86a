/**
 * The control API server: gRPC on a Unix socket (mode 0600, a stale socket file from a dead daemon is removed,
 * a live one is an error), serving nydus.daemon.v1.Daemon, grpc.health.v1.Health and server reflection (v1 and
 * v1alpha) so that generic tools (grpcurl, grpc_health_probe) work. Request bytes that do not decode reach the
 * handlers as MalformedRequest instead of grpc-js's INTERNAL. It does not decide anything about the daemon.
 */
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import * as fs from 'fs';
import * as net from 'net';
import { HealthImplementation } from 'grpc-health-check';
import { NydusError } from '../errors';
import { createLogger, Logger } from '../log';
import type { DaemonControl } from './control';
import { daemonHandlers, MalformedRequest } from './handlers';
import { DAEMON_SERVICE_NAME, loadDaemonProto } from './proto';

export interface ApiServer {
  readonly socketPath: string;
  readonly health: HealthImplementation;
  /** Finishes calls in progress (bounded by `graceMs`), then closes and removes the socket. Idempotent. */
  close(graceMs?: number): Promise<void>;
}

/** Deserialisers that never throw: a bad message becomes a MalformedRequest the handler answers. */
function tolerantService(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(service)) {
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return method.requestDeserialize(bytes);
        } catch (err) {
          return new MalformedRequest((err as Error).message);
        }
      },
    };
  }
  return out;
}

function socketIsAlive(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

async function removeStaleSocket(socketPath: string): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(socketPath);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new NydusError('InvalidArguments', `--apisock ${socketPath} exists and is not a socket`);
  if (await socketIsAlive(socketPath)) {
    throw new NydusError('AlreadyExists', `Another process is listening on the API socket ${socketPath}`);
  }
  fs.unlinkSync(socketPath);
}

function bind(server: grpc.Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const oldMask = process.umask(0o177); // the socket file is created 0600
    server.bindAsync(`unix:${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) => {
      process.umask(oldMask);
      if (err) reject(new NydusError('StartService', `Cannot listen on ${socketPath}: ${err.message}`));
      else resolve();
    });
  });
}

export async function startApiServer(options: {
  socketPath: string;
  control: DaemonControl;
  logger?: Logger;
}): Promise<ApiServer> {
  const logger = options.logger ?? createLogger('api');
  const { socketPath } = options;
  await removeStaleSocket(socketPath);
  const proto = loadDaemonProto();
  const server = new grpc.Server();
  server.addService(tolerantService(proto.service), daemonHandlers(options.control, logger));
  const health = new HealthImplementation({ '': 'SERVING', [DAEMON_SERVICE_NAME]: 'SERVING' });
  health.addToServer(server);
  new ReflectionService(proto.packageDefinition).addToServer(server);
  await bind(server, socketPath);
  fs.chmodSync(socketPath, 0o600);
  logger.info('API listening', { socket: socketPath });

  let closing: Promise<void> | undefined;
  const close = (graceMs = 1000): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      health.setStatus('', 'NOT_SERVING');
      health.setStatus(DAEMON_SERVICE_NAME, 'NOT_SERVING');
      const timer = setTimeout(() => server.forceShutdown(), graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        try {
          fs.unlinkSync(socketPath);
        } catch {
          // already gone
        }
        resolve();
      });
    });
    return closing;
  };
  return { socketPath, health, close };
}
