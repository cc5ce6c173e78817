/**
 * One run of the native `tesseract` command, bounded: CPU time (read from /proc, with the wall
 * ceiling of time-bound.ts), address space (`ulimit -v` set by a shell that then execs tesseract,
 * so the kernel refuses the allocation instead of the machine swapping), an abort signal, and a
 * kill from the engine. Whatever the child does (crash, garbage, hang), the caller gets a settled
 * promise, never an exception in the worker process.
 */
import { spawn } from 'node:child_process';
import { AppError } from '../common/index.ts';
import { OcrWorkerError } from './ocr-engine.ts';
import { procCpuTimeMs, watchTimeBound, type TimeBound } from './time-bound.ts';

/** How a run ended when the process exited by itself. */
export interface TesseractExit {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The last few KiB of what it wrote to stderr. */
  stderr: string;
}

/** Bounds and input of one run. */
export interface TesseractRunOptions {
  /** Bytes written to the child's stdin (the page image when reading `stdin`). */
  stdin?: Buffer;
  /** CPU-time budget (with the wall ceiling); exceeded → the child is killed and `done` rejects with OcrTimeoutError. */
  timeoutMs?: number;
  /** Aborting kills the child; `done` rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Address-space bound of the child in MiB (`ulimit -v`); none when absent. */
  memoryLimitMb?: number;
}

/** A started run. */
export interface RunningTesseract {
  /** Resolves when the child exited by itself (any code); rejects when it was killed or could not start. */
  readonly done: Promise<TesseractExit>;
  /** Kills the child (SIGKILL); `done` rejects with `reason`. */
  kill(reason: unknown): void;
}

// What a run keeps of stdout (OSD's report, `--version`) and of stderr (the reason it failed).
const MAX_STDOUT = 1024 * 1024;
const MAX_STDERR = 8 * 1024;

/** Starts `binary args…` with one OpenMP thread, under the given bounds. */
export function runTesseract(binary: string, args: readonly string[], opts: TesseractRunOptions = {}): RunningTesseract {
  let settle!: { resolve: (v: TesseractExit) => void; reject: (e: unknown) => void };
  const done = new Promise<TesseractExit>((resolve, reject) => (settle = { resolve, reject }));
  // the owner may kill a run it no longer awaits
  done.catch(() => undefined);
  // why the child was killed; `killed` tells an undefined reason from none
  let outcome: unknown;
  let killed = false;
  let bound: TimeBound | undefined;
  let finished = false;

  const env = { ...process.env, OMP_THREAD_LIMIT: '1' };
  // exec keeps the pid, so /proc/<pid> and kill() reach tesseract itself; no core files of a refused allocation
  const child =
    opts.memoryLimitMb !== undefined
      ? spawn('/bin/sh', ['-c', `ulimit -c 0; ulimit -v ${Math.ceil(opts.memoryLimitMb * 1024)} && exec "$@"`, 'tesseract', binary, ...args], { env, stdio: 'pipe' })
      : spawn(binary, [...args], { env, stdio: 'pipe' });

  const kill = (reason: unknown) => {
    if (finished) return;
    if (!killed) outcome = reason;
    killed = true;
    // before the 'spawn' event the pid may be missing; kill() then throws nothing and the error path settles
    child.kill('SIGKILL');
  };
  const onAbort = () => kill(opts.signal!.reason);

  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    if (stdout.length < MAX_STDOUT) stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-MAX_STDERR);
  });
  // a child that dies before reading its input closes the pipe: EPIPE here is that death, reported by 'close'
  child.stdin.on('error', () => undefined);
  child.stdin.end(opts.stdin ?? Buffer.alloc(0));

  const end = () => {
    finished = true;
    bound?.stop();
    opts.signal?.removeEventListener('abort', onAbort);
  };
  child.once('error', (e: NodeJS.ErrnoException) => {
    end();
    settle.reject(killed ? outcome : new OcrWorkerError(`tesseract could not start: ${e.message}`, { cause: e }));
  });
  child.once('close', (code, signal) => {
    end();
    if (killed) settle.reject(outcome);
    else settle.resolve({ code, signal, stdout, stderr });
  });

  child.once('spawn', () => {
    const pid = child.pid;
    if (opts.timeoutMs !== undefined && pid !== undefined && !finished) {
      bound = watchTimeBound(opts.timeoutMs, () => procCpuTimeMs(String(pid)));
      bound.exceeded.catch(kill);
    }
  });
  if (opts.signal) {
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  }
  return { done, kill };
}

/**
 * Turns an exit into the failure it means, or undefined for a clean exit: a signal or a non-zero
 * code is a crash of that one run (OcrWorkerError), with what tesseract said about it.
 */
export function exitFailure(exit: TesseractExit, memoryLimitMb?: number): OcrWorkerError | undefined {
  if (exit.code === 0 && exit.signal === null) return undefined;
  const said = exit.stderr.trim().split('\n').slice(-3).join(' / ').slice(0, 400);
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  // ulimit -v makes the allocation fail: C++ throws bad_alloc and aborts, or the loader cannot map a library
  const memory = memoryLimitMb !== undefined && /bad_alloc|cannot allocate memory|failed to map segment/i.test(exit.stderr);
  return new OcrWorkerError(memory ? `tesseract ran out of its memory bound of ${memoryLimitMb} MiB (${how})` : `tesseract ${how}${said ? `: ${said}` : ''}`);
}

/** The version `tesseract --version` names (e.g. '5.3.0'); ERR_UNAVAILABLE when the binary is missing or says something else. */
export async function nativeTesseractVersion(binary: string): Promise<string> {
  const exit = await runTesseract(binary, ['--version'], { timeoutMs: 10_000 }).done.catch((e: unknown) => {
    if ((e as { cause?: { code?: unknown } }).cause?.code === 'ENOENT') {
      throw new AppError('ERR_UNAVAILABLE', `\`${binary}\` was not found${binary.includes('/') ? '' : ' on PATH'}; install Debian's tesseract-ocr or set OCR_ENGINE=wasm`);
    }
    throw new AppError('ERR_UNAVAILABLE', `\`${binary} --version\` failed: ${e instanceof Error ? e.message : String(e)}`);
  });
  // tesseract 4 wrote its version to stderr, 5 to stdout
  const m = /^tesseract v?(\d+\.\d+\.\d+\S*)/m.exec(`${exit.stdout}\n${exit.stderr}`);
  if (exit.code !== 0 || !m) throw new AppError('ERR_UNAVAILABLE', `\`${binary} --version\` did not name a tesseract version (exit ${exit.code ?? exit.signal})`);
  return m[1]!;
}
