/**
 * One place that owns everything a benchmark must undo (mounts, server processes, temp dirs). Owners register an
 * undo step as they create the thing; `run()` undoes them newest first, each once, also when a step fails. The
 * registry hooks SIGINT/SIGTERM and uncaught errors so Ctrl-C or a crash still leaves nothing behind.
 */

export type UndoStep = () => void | Promise<void>;

export class CleanupRegistry {
  private readonly steps: Array<{ what: string; undo: UndoStep }> = [];
  private running: Promise<void> | undefined;

  /** Registers an undo step; the returned function runs it early (and removes it from the registry). */
  add(what: string, undo: UndoStep): () => Promise<void> {
    const entry = { what, undo };
    this.steps.push(entry);
    return async () => {
      const i = this.steps.indexOf(entry);
      if (i < 0) return;
      this.steps.splice(i, 1);
      await runStep(entry);
    };
  }

  /** Undoes every registered step, newest first. Idempotent: a second call waits for the first. */
  run(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length > 0) await runStep(this.steps.pop()!);
    })();
    return this.running;
  }

  /** On SIGINT, SIGTERM, an uncaught exception or an unhandled rejection: clean up, then exit non-zero. */
  installProcessHooks(): void {
    const bail = (why: string, code: number) => {
      process.stderr.write(`\n${why}: cleaning up...\n`);
      void this.run().finally(() => process.exit(code));
    };
    process.once('SIGINT', () => bail('interrupted', 130));
    process.once('SIGTERM', () => bail('terminated', 143));
    process.once('uncaughtException', (err) => bail(`uncaught error: ${err.stack ?? err.message}`, 1));
    process.once('unhandledRejection', (err) => bail(`unhandled rejection: ${String(err)}`, 1));
  }
}

async function runStep(entry: { what: string; undo: UndoStep }): Promise<void> {
  try {
    await entry.undo();
  } catch (err) {
    process.stderr.write(`cleanup: could not ${entry.what}: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}
