/**
 * CPU time and resident memory of a process, read from Linux /proc: how the load tools and the flood test
 * see what a server spends. undefined when the process is gone (or /proc is missing).
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat (USER_HZ: 100 on every Linux architecture Node runs on). */
const CLOCK_TICKS_PER_S = 100;

/** utime + stime of a process, in seconds. */
export function processCpuSeconds(pid: number): number | undefined {
  const stat = readProc(pid, 'stat');
  if (stat === undefined) return undefined;
  // The name (field 2) may hold spaces: count fields after its closing parenthesis; utime and stime are 14, 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

/** Resident set size (VmRSS) of a process, in MB. */
export function processRssMb(pid: number): number | undefined {
  const status = readProc(pid, 'status');
  const match = status === undefined ? null : /^VmRSS:\s+(\d+) kB/m.exec(status);
  return match === null ? undefined : Number(match[1]) / 1024;
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1');
  } catch {
    return undefined;
  }
}
