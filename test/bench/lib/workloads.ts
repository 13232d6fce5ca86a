/**
 * The filesystem workloads a benchmark runs over a directory tree (a kernel directory or any mount of the same
 * dataset): metadata walks, a tar of the small files, a sequential read of the big file and fio random reads.
 * Each workload is a shell command plus how to read its figure from the output and how to check that the run
 * really saw the whole dataset (so a broken peer cannot "win" by doing nothing). No mounting or timing here.
 */
import { Dataset } from './dataset';

export type Metric = 'time' | 'iops';

export interface Workload {
  id: string;
  label: string;
  /** 'time': lower is better, the figure is the wall time; 'iops': higher is better, parsed from the output. */
  metric: Metric;
  /** Drop caches before each run. */
  cold: boolean;
  /**
   * Runs per repetition (default 1), interleaved across the targets. For a workload that takes a few tens of
   * milliseconds, one run says little: a cold find here moves by 10-30% from one run to the next.
   */
  runsPerRep?: number;
  /** The command, run by bash, over the dataset mounted (or present) at `root`. */
  command(root: string): string;
  /** Throws when the output shows the run did not cover the dataset; returns the figure for 'iops' workloads. */
  evaluate(stdout: string): number | undefined;
}

export interface WorkloadOptions {
  fioSeconds: number;
}

export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function expectCount(what: string, stdout: string, expected: number): undefined {
  const got = Number(stdout.trim());
  if (got !== expected) throw new Error(`${what}: expected ${expected}, got ${JSON.stringify(stdout.trim())}`);
  return undefined;
}

/** Parses fio's JSON output (which may follow warnings) and returns the summed read IOPS. */
export function fioReadIops(stdout: string): number {
  const start = stdout.indexOf('{');
  if (start < 0) throw new Error(`fio printed no JSON: ${stdout.slice(0, 500)}`);
  const report = JSON.parse(stdout.slice(start)) as { jobs: Array<{ read: { iops: number }; error: number }> };
  if (report.jobs.some((job) => job.error !== 0)) throw new Error('fio reported a job error');
  const iops = report.jobs.reduce((sum, job) => sum + job.read.iops, 0);
  if (!(iops > 0)) throw new Error('fio reported no reads');
  return iops;
}

const LSTAT_WALK = `import os, sys
n = 0
for d, dirs, files in os.walk(sys.argv[1]):
    os.lstat(d)
    n += 1
    for name in files:
        os.lstat(os.path.join(d, name))
        n += 1
print(n)`;

function fioCommand(bigFile: string, seconds: number, jobs: number): string {
  return [
    'fio --name=r', `--filename=${shellQuote(bigFile)}`, '--rw=randread --bs=4k --direct=1 --ioengine=psync',
    `--runtime=${seconds} --time_based --readonly --output-format=json`,
    ...(jobs > 1 ? [`--numjobs=${jobs} --group_reporting`] : []),
  ].join(' ');
}

/** find takes 30-50 ms cold: five runs per repetition, so that its median rests on more than a few samples. */
const FIND_RUNS_PER_REP = 5;
/**
 * A cold dd of the 256 MiB file took either 110-125 ms or 200-270 ms on this VM, for every target alike, the
 * kernel's directory included (the host's doing: `--only dd --reps 5` put kernel at 269, 112, 112, 122, 256 ms):
 * three runs per repetition, so that one slow run does not decide a row.
 */
const DD_RUNS_PER_REP = 3;
/**
 * The cold lstat walk swung by a third from one repetition to the next, for every target alike (one rafs run:
 * squashfuse 556, 737 and 547 ms, our plain-image mount 515, 751 and 653 ms): three runs per repetition.
 */
const LSTAT_RUNS_PER_REP = 3;

/** ", find: 5 runs per rep" for the workloads that run more than once per repetition. */
export function runsNote(workloads: readonly Workload[]): string {
  return workloads.filter((w) => (w.runsPerRep ?? 1) > 1).map((w) => `, ${w.id}: ${w.runsPerRep} runs per rep`).join('');
}

/** The ids standardWorkloads() returns, in order. */
export const STANDARD_WORKLOAD_IDS = ['find', 'lstat', 'tar', 'dd', 'fio1', 'fio4'] as const;

export function standardWorkloads(dataset: Dataset, opts: WorkloadOptions): Workload[] {
  const big = (root: string) => `${root}/${dataset.bigFile}`;
  const mib = Math.round(dataset.bigFileBytes / (1 << 20));
  return [
    {
      id: 'find', label: 'find | wc -l', metric: 'time', cold: true, runsPerRep: FIND_RUNS_PER_REP,
      command: (root) => `find ${shellQuote(root)} | wc -l`,
      evaluate: (out) => expectCount('find', out, dataset.entryCount),
    },
    {
      id: 'lstat', label: 'lstat every entry (python os.walk)', metric: 'time', cold: true, runsPerRep: LSTAT_RUNS_PER_REP,
      command: (root) => `python3 -c ${shellQuote(LSTAT_WALK)} ${shellQuote(root)}`,
      // os.walk lists symlinks among files: every entry is counted once.
      evaluate: (out) => expectCount('lstat walk', out, dataset.entryCount),
    },
    {
      id: 'tar', label: `tar of ${dataset.smallFiles.toLocaleString('en-US')} small files`, metric: 'time', cold: true,
      // Through a pipe: GNU tar skips reading file data when the archive is /dev/null itself.
      command: (root) => `tar -C ${shellQuote(root)} -cf - ${shellQuote(dataset.smallDir)} | wc -c`,
      evaluate: (out) => {
        if (Number(out.trim()) < dataset.smallBytes) throw new Error(`tar: archive smaller than the files (${out.trim()} bytes)`);
        return undefined;
      },
    },
    {
      id: 'dd', label: `dd ${mib} MiB bs=1M`, metric: 'time', cold: true, runsPerRep: DD_RUNS_PER_REP,
      // dd's statistics (on stderr) say how many bytes it read: "268435456 bytes (268 MB, 256 MiB) copied, ...".
      command: (root) => `dd if=${shellQuote(big(root))} of=/dev/null bs=1M 2>&1`,
      evaluate: (out) => expectCount('dd', /^(\d+) bytes/m.exec(out)?.[1] ?? out, dataset.bigFileBytes),
    },
    {
      id: 'fio1', label: 'fio 4k randread direct, 1 job', metric: 'iops', cold: true,
      command: (root) => fioCommand(big(root), opts.fioSeconds, 1),
      evaluate: fioReadIops,
    },
    {
      id: 'fio4', label: 'fio 4k randread direct, 4 jobs', metric: 'iops', cold: true,
      command: (root) => fioCommand(big(root), opts.fioSeconds, 4),
      evaluate: fioReadIops,
    },
  ];
}
