/**
 * CPU and memory of a process, and UDP drops, read from /proc (Linux only), for the benchmarks.
 * Starting and stopping processes is server/devtools/procs.ts.
 */
import { readFileSync } from 'node:fs';

/** USER_HZ: /proc/<pid>/stat counts CPU time in these ticks (100 on every Linux we run on). */
const CLK_TCK = 100;

/** CPU seconds (user + system, all threads) a process has used so far; undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields restart after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After ')': f[0] is field 3 (state), so utime (field 14) is f[11] and stime (field 15) f[12].
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** Resident set size in bytes (VmRSS), undefined once the process is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whole-machine CPU time so far (seconds, summed over cores), how much of it was busy, and how much
 * the hypervisor gave to other guests while this one wanted to run (steal): a benchmark run on a
 * contended host says so.
 */
export function machineCpu(): { total: number; busy: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { total: total / CLK_TCK, busy: (total - idle) / CLK_TCK, steal: (v[7] ?? 0) / CLK_TCK };
}

/**
 * Datagrams the kernel dropped for the UDP socket bound to 127.0.0.1:`port` because its receive
 * buffer was full (the `drops` column of /proc/net/udp); undefined when no such socket exists.
 */
export function udpDrops(port: number): number | undefined {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  try {
    for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1] === want) return Number(f[f.length - 1]);
    }
  } catch {
    /* not Linux */
  }
  return undefined;
}
