/**
 * Opens the filesystem a mount request names: passthrough_fs over a directory (`source`), or rafs from a bootstrap
 * (`source`) with its JSON config. Checks source and config first so that a bad request is InvalidArguments /
 * InvalidConfig with a clear message, and wraps what the backend throws as PassthroughFs / Rafs errors.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { FileSystem } from '../fs/filesystem';
import { NydusError, wrapError } from '../errors';
import { PassthroughFs } from '../passthrough';
import { openRafs, RafsFs, RafsOptions, rafsOptionsFromConfig } from '../rafs';
import { warmUpInBackground, warmUpRequests } from '../server/warm-up';
import { Vfs } from '../vfs/vfs';
import type { BackendFactory } from './ports';
import type { MountCommand } from './types';

export interface BackendDefaults {
  /** passthrough_fs: writable unless the config says otherwise (nydusd --writable). */
  writable?: boolean;
  /** rafs: serve a few hundred requests before the image is served (server/warm-up.ts). Not in a takeover. */
  warmUp?: boolean;
  /**
   * rafs with warmUp: whether applications use the mount yet. Until they do, the warm-up continues in the
   * background after the image is served.
   */
  mountInUse?: () => boolean;
}

/** Parses a mount request's config text: '' is {}, anything else must be a JSON object. */
export function parseConfigObject(config: string): Record<string, unknown> {
  if (config.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(config);
  } catch (err) {
    throw new NydusError('InvalidConfig', `The filesystem config is not valid JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new NydusError('InvalidConfig', 'The filesystem config must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function requireSource(command: MountCommand, kind: 'directory' | 'file'): string {
  const source = command.source;
  if (!source || !path.isAbsolute(source)) {
    throw new NydusError('InvalidArguments', `The ${command.fsType} source must be an absolute path, got "${source}"`);
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(source);
  } catch {
    throw new NydusError('InvalidArguments', `The ${command.fsType} source ${source} does not exist`);
  }
  if (kind === 'directory' ? !stat.isDirectory() : !stat.isFile()) {
    throw new NydusError('InvalidArguments', `The ${command.fsType} source ${source} is not a ${kind}`);
  }
  return source;
}

async function openPassthrough(command: MountCommand, defaults: BackendDefaults): Promise<FileSystem> {
  const sharedDir = requireSource(command, 'directory');
  const config = parseConfigObject(command.config);
  if (config.writable !== undefined && typeof config.writable !== 'boolean') {
    throw new NydusError('InvalidConfig', 'passthrough_fs config "writable" must be true or false');
  }
  if (config.allow_direct_io !== undefined && typeof config.allow_direct_io !== 'boolean') {
    throw new NydusError('InvalidConfig', 'passthrough_fs config "allow_direct_io" must be true or false');
  }
  const writable = (config.writable as boolean | undefined) ?? defaults.writable ?? false;
  const allowDirectIo = (config.allow_direct_io as boolean | undefined) ?? false;
  try {
    return new PassthroughFs({ sharedDir, writable, allowDirectIo });
  } catch (err) {
    throw wrapError('PassthroughFs', `Cannot open passthrough_fs over ${sharedDir}`, err);
  }
}

/** An empty config means: blobs next to the bootstrap (or inside it, for a self-contained image). */
function rafsOptions(bootstrap: string, config: string): RafsOptions {
  parseConfigObject(config);
  if (config.trim() === '') return { bootstrap };
  try {
    return rafsOptionsFromConfig(bootstrap, config);
  } catch (err) {
    throw new NydusError('InvalidConfig', (err as Error).message, { cause: err });
  }
}

async function openRafsBackend(command: MountCommand, defaults: BackendDefaults): Promise<FileSystem> {
  const bootstrap = requireSource(command, 'file');
  const options = rafsOptions(bootstrap, command.config);
  let rafs: RafsFs;
  try {
    rafs = await openRafs(options);
  } catch (err) {
    throw wrapError('Rafs', `Cannot open rafs from ${bootstrap}`, err);
  }
  if (defaults.warmUp) {
    const served = asMounted(rafs, command);
    // Before the mount appears, nothing is read ahead: those disk reads would only delay it.
    rafs.readAhead = false;
    await warmUpRequests(served);
    rafs.readAhead = true;
    const inUse = defaults.mountInUse;
    if (inUse) void warmUpInBackground(served, () => rafs.closed || inUse());
  }
  return rafs;
}

/**
 * A throwaway Vfs with `fs` at its root, for the warm-up: the mount's requests reach a filesystem through the
 * daemon's Vfs, and the objects it makes (entries with global nodeids) are the ones the request path is compiled for.
 */
function asMounted(fs: FileSystem, command: MountCommand): Vfs {
  const vfs = new Vfs();
  vfs.mount('/', fs, { fsType: command.fsType, source: command.source, config: command.config, prefetchFiles: [] });
  return vfs;
}

export function createBackendFactory(defaults: BackendDefaults = {}): BackendFactory {
  return async (command) => {
    switch (command.fsType) {
      case 'passthrough_fs':
        return openPassthrough(command, defaults);
      case 'rafs':
        return openRafsBackend(command, defaults);
    }
  };
}
