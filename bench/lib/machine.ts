/** The machine and the versions a benchmark run used, recorded beside its figures. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import type { TfRuntime } from '@emostream/runtime';
import { ffmpegVersion } from './ffmpeg.js';

const require = createRequire(import.meta.url);

/** What the table and the JSON say about the machine. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  gpu: string;
}

/** `nproc`, the CPU model from /proc/cpuinfo, total memory. */
export function machineInfo(): MachineInfo {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /model name\s*:\s*(.+)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch { /* not Linux */ }
  let cpus = os.availableParallelism();
  try { cpus = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()); } catch { /* keep Node's count */ }
  const gpu = fs.existsSync('/proc/driver/nvidia/version') ? 'nvidia driver present' : 'none';
  return { cpus, cpuModel, memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10, os: `${os.type()} ${os.release()}`, gpu };
}

/** Versions of everything the figures depend on. */
export function versions(rt: TfRuntime, kafkaVersion?: string): Record<string, string> {
  const backend = rt.tf.backend() as unknown as { binding?: { TF_Version?: string } };
  const human = (() => {
    try {
      const H = require('@vladmandic/human') as { Human: new (c: object) => { version: string } };
      return new H.Human({}).version;
    } catch { return 'unavailable'; }
  })();
  return {
    node: process.version,
    tfjs: rt.tf.version.tfjs ?? rt.tf.version['tfjs-core'],
    tfjsProvider: `${rt.provider} ${rt.tf.version['tfjs-node'] ?? ''}`.trim(),
    tensorflowLibrary: backend.binding?.TF_Version ?? 'n/a',
    human,
    ffmpeg: ffmpegVersion(),
    kafka: kafkaVersion ?? process.env.KAFKA_VERSION ?? '3.9.1',
    kafkajs: (() => { try { return (require('kafkajs/package.json') as { version: string }).version; } catch { return 'unavailable'; } })(),
  };
}

/**
 * How busy the machine was (1-minute load average and the top CPU users other than this
 * process): figures taken while something else runs are not comparable, and the JSON says so.
 */
export function machineLoad(): { loadAvg1m: number; topProcesses: string[] } {
  let top: string[] = [];
  try {
    top = execFileSync('ps', ['-eo', 'pid=,pcpu=,comm=', '--sort=-pcpu'], { encoding: 'utf8' }).trim().split('\n')
      .map((l) => l.trim().split(/\s+/)).filter(([pid]) => Number(pid) !== process.pid).slice(0, 4).map(([, cpu, comm]) => `${comm} ${cpu}%`);
  } catch { /* no ps */ }
  return { loadAvg1m: Math.round(os.loadavg()[0] * 100) / 100, topProcesses: top };
}
