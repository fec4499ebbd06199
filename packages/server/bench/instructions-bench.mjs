/* global process, setTimeout */
// `npm run bench:instructions`: the servers of bench:http counted in machine instructions instead
// of timed. Each runs under valgrind's callgrind, which counts the instructions a process executes
// (all its threads: JIT compiler and GC helpers included) whatever else the host is doing, so the
// figures repeat where req/s on this shared host swing by half from one round to the next.
//
// Per server: start under callgrind with instrumentation off, warm up with load (uninstrumented, so
// about ten times slower than native rather than fifty; the JIT tiers up by call counts, as it does
// at full speed), switch instrumentation on, zero the counters, load for the counted window and
// divide the instructions by the requests answered. Work done per second rather than per request (timers, periodic flushes) weighs
// more per request under valgrind's ~50-fold slowdown than at full speed; it is small here.
// Only user space is counted: the kernel's share (read, writev, epoll) is about the same for every
// server, so this ratio is lower than the req/s ratio would be with equal kernel work added to both.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { killAll, startCeiling, startSwitchyard, load } from './servers.mjs';

const warmup = Number(process.env.BENCH_IR_WARMUP ?? 90);
const window = Number(process.env.BENCH_IR_DURATION ?? 40);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const keep = process.env.BENCH_IR_KEEP;

if (spawnSync('valgrind', ['--version']).error !== undefined || spawnSync('callgrind_control', ['-h']).error !== undefined) {
  process.stderr.write('bench:instructions needs valgrind (Debian: apt-get install valgrind)\n');
  process.exit(2);
}

// valgrind names its control pipes after $HOST, which Switchyard's server gets as its listen
// address; callgrind_control must see the same value to find them.
process.env.HOST = '127.0.0.1';
const outDir = keep ?? mkdtempSync(join(tmpdir(), 'switchyard-callgrind-'));
// Counting starts after the warm-up (valgrind runs the process uninstrumented until then, about ten
// times slower than native instead of fifty). V8's memory reducer and bytecode flushing act on
// wall-clock idleness, which valgrind's slowdown fakes: they set off full collections and
// recompilation in the counted window that a server under load at full speed never does.
const v8Flags = ['--no-memory-reducer', '--no-flush-bytecode'];
const underCallgrind = (command, args) => [
  'valgrind',
  ['-q', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${join(outDir, 'callgrind.%p')}`, command, ...v8Flags, ...args],
];

function control(pid, flag) {
  const r = spawnSync('callgrind_control', [...flag.split(' '), String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`callgrind_control ${flag} ${pid}: ${r.stderr || r.stdout}`);
}

// V8's optimising compiler runs its jobs on a background thread through this entry point.
const compileTask = 'v8::internal::OptimizingCompileDispatcher::CompileTask::RunInternal()';

/**
 * From a callgrind dump: all instructions, and those spent inside `compileTask` (the inclusive
 * cost of every call to it). Names are compressed in the file: `(id) name` the first time, `(id)` after.
 */
function readDump(text) {
  const total = Number(text.match(/^totals: (\d+)/m)?.[1] ?? NaN);
  const names = new Map();
  let target = null;
  let inCall = false;
  let compile = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('cfn=') || line.startsWith('fn=')) {
      const m = line.slice(line.indexOf('=') + 1).match(/^\((\d+)\)(?: (.*))?$/);
      if (m && m[2] !== undefined) names.set(m[1], m[2]);
      if (line.startsWith('cfn=')) target = m ? names.get(m[1]) : line.slice(4);
    } else if (line.startsWith('calls=')) {
      inCall = true;
    } else if (inCall) {
      // The line after `calls=` holds the call's inclusive cost: position, then instructions.
      if (target === compileTask) compile += Number(line.split(' ')[1]);
      inCall = false;
    }
  }
  return { total, compile };
}

/**
 * Dumps the counters of `pid` (callgrind zeroes them after a dump) and reads them. The dump is
 * written when the process next runs, which can be after callgrind_control returns.
 */
async function dump(pid) {
  const before = new Set(readdirSync(outDir));
  control(pid, '-d');
  for (let waited = 0; waited < 120_000; waited += 200) {
    const file = readdirSync(outDir).find((f) => f.startsWith(`callgrind.${pid}.`) && !before.has(f));
    const text = file && readFileSync(join(outDir, file), 'utf8');
    // callgrind writes `totals:` last.
    if (text && /^totals: \d+/m.test(text)) return readDump(text);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`callgrind wrote no dump for ${pid} within 120 s`);
}

async function count(target) {
  const pid = target.server.pid;
  const options = { connections, flagKey: 'checkout', apiKey: target.apiKey, timeoutSeconds: 60 };
  await load(target.url, { ...options, seconds: warmup });
  control(pid, '-i on');
  control(pid, '-z');
  const result = await load(target.url, { ...options, seconds: window });
  const { total, compile } = await dump(pid);
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${target.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return { requests: result.total, perRequest: total / result.total, withoutCompiler: (total - compile) / result.total };
}

const format = (n) => Math.round(n).toLocaleString('en-US');

process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});

try {
  process.stdout.write(`callgrind: ${warmup} s warm-up, ${window} s counted, ${connections} connections; servers on core 0, load on core 1\n`);
  const starts = [
    ['node:http JSON POST (ceiling)', () => startCeiling('bare-server.mjs', underCallgrind)],
    ['bare Fastify JSON POST', () => startCeiling('fastify-floor.mjs', underCallgrind)],
    ['POST /api/v1/evaluate (3 rules)', () => startSwitchyard(underCallgrind, 300_000)],
  ];
  const results = [];
  // One at a time: under valgrind a server needs its core to itself for the load to reach it.
  for (const [name, start] of starts) {
    const target = { name, ...(await start()) };
    try {
      const r = await count(target);
      results.push({ name, ...r });
      process.stdout.write(
        `${name.padEnd(34)} ${format(r.perRequest).padStart(9)} instructions/request, ${format(r.withoutCompiler).padStart(9)} without the optimising compiler   (${r.requests} requests)\n`,
      );
    } finally {
      await target.stop();
    }
  }
  const [ceiling] = results;
  for (const r of results.slice(1)) {
    const ratio = (a, b) => `${((a / b) * 100).toFixed(1)}%`;
    process.stdout.write(`ratio to ceiling, ${r.name}: ${ratio(ceiling.perRequest, r.perRequest)}, without the optimising compiler ${ratio(ceiling.withoutCompiler, r.withoutCompiler)}\n`);
  }
  if (keep) process.stdout.write(`callgrind files kept in ${outDir} (callgrind_annotate <file>)\n`);
} finally {
  killAll();
  if (!keep) rmSync(outDir, { recursive: true, force: true });
}
