/**
 * Creating the folders Preflight writes to (results, golden files) without Node's recursive
 * mkdir: on Linux `fs.mkdirSync('/proc/x', { recursive: true })` never returns (mkdir answers ENOENT,
 * Node retries the parent, which exists, then the child again, forever, at 100% CPU and deaf to
 * signals). Here every step is one system call, the walk is bounded by the path's depth, and each
 * failure comes back as a reason a user can act on.
 */
import fs from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { PreflightError } from './errors.js';

/** Why a path cannot be written. `argument`: the path itself is wrong (exit 2); otherwise the disk failed. */
export interface PathProblem {
  message: string;
  hint?: string;
  /** The path is unusable as given (not a folder, read-only, a kernel filesystem, …), not a full disk. */
  argument: boolean;
}

/** statfs magic numbers of Linux pseudo-filesystems that cannot hold files (proc, sysfs, cgroup, …). */
const PSEUDO_FS: Record<number, string> = {
  0x9fa0: 'proc',
  0x62656572: 'sysfs',
  0x27e0eb: 'cgroup',
  0x63677270: 'cgroup2',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x73636673: 'securityfs',
  0xcafe4a11: 'bpf',
  0x6165676c: 'pstore',
  0x1cd1: 'devpts',
};

const DISK_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EFBIG', 'EMFILE', 'ENFILE', 'ENOMEM']);

/** A filesystem error as a PathProblem: a full disk is not the user's argument's fault. */
export function problemFromError(target: string, err: unknown): PathProblem {
  const e = err as NodeJS.ErrnoException;
  const code = e?.code ?? '';
  const argument = !DISK_ERRORS.has(code);
  const hint =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? 'free some space (or choose a folder on another disk) and run again'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'choose a folder you can write to'
        : argument
          ? 'choose a folder on a normal disk'
          : undefined;
  const text = code ? `${describeErrno(code)} (${code})` : String(e?.message ?? err);
  return { message: `${target}: ${text}`, hint, argument };
}

function describeErrno(code: string): string {
  switch (code) {
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only filesystem';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder';
    case 'ENOENT':
      return 'cannot be created there';
    case 'ENAMETOOLONG':
      return 'the name is too long';
    case 'ELOOP':
      return 'too many symbolic links';
    case 'EIO':
      return 'input/output error';
    default:
      return 'cannot be written';
  }
}

function pseudoFs(existing: string): string | undefined {
  try {
    return PSEUDO_FS[Number(fs.statfsSync(existing).type)];
  } catch {
    return undefined;
  }
}

/**
 * Checks that `dir` is (or can be made) a writable folder, without creating anything. Returns the
 * missing folders to create, outermost first, or the problem.
 */
export function checkWritableDir(dir: string): { missing: string[] } | { problem: PathProblem } {
  const abs = path.resolve(dir);
  const missing: string[] = [];
  let p = abs;
  // Bounded by the path's depth: each step goes one folder up, and the root is its own parent.
  for (let depth = 0; depth < 4096; depth++) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const parent = path.dirname(p);
      if (code === 'ENOENT' && parent !== p) {
        missing.unshift(p);
        p = parent;
        continue;
      }
      return { problem: problemFromError(p, err) };
    }
    if (!st.isDirectory()) {
      const what = p === abs ? 'exists and is not a folder' : `is a file, not a folder (in ${abs})`;
      return {
        problem: {
          message: `${p} ${what}`,
          hint: 'choose a folder path (an existing folder or a new one)',
          argument: true,
        },
      };
    }
    const fsType = pseudoFs(p);
    if (fsType) {
      return {
        problem: {
          message: `${abs} is on the kernel's ${fsType} filesystem, which cannot hold files`,
          hint: 'choose a folder on a normal disk',
          argument: true,
        },
      };
    }
    try {
      fs.accessSync(p, fs.constants.W_OK | fs.constants.X_OK);
    } catch (err) {
      return { problem: problemFromError(p, err) };
    }
    return { missing };
  }
  return { problem: { message: `${abs}: the path is too deep`, argument: true } };
}

/** Makes `dir` (and its missing parents), one bounded mkdir per level. Returns the problem, if any. */
export function ensureDir(dir: string): PathProblem | null {
  const checked = checkWritableDir(dir);
  if ('problem' in checked) return checked.problem;
  for (const m of checked.missing) {
    try {
      fs.mkdirSync(m);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && fs.statSync(m, { throwIfNoEntry: false })?.isDirectory())
        continue;
      return problemFromError(m, err);
    }
  }
  return null;
}

/** ensureDir off the calling thread's critical path: the checks are a few stat calls, the mkdirs async. */
export async function ensureDirAsync(dir: string): Promise<PathProblem | null> {
  const checked = checkWritableDir(dir);
  if ('problem' in checked) return checked.problem;
  for (const m of checked.missing) {
    try {
      await mkdir(m);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && (await stat(m).catch(() => null))?.isDirectory())
        continue;
      return problemFromError(m, err);
    }
  }
  return null;
}

/** Checks that `file` can be written (its folder can be made; it is not a folder itself). */
export function checkWritableFile(file: string): PathProblem | null {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (st?.isDirectory())
    return { message: `${path.resolve(file)} is a folder, not a file`, hint: 'give a file name', argument: true };
  const checked = checkWritableDir(path.dirname(path.resolve(file)));
  return 'problem' in checked ? checked.problem : null;
}

/** ensureDir that throws: E_ARGS (exit 2) for a path that cannot be used, E_RESULTS_IO (exit 7) for a full disk. */
export function ensureDirOrThrow(dir: string): void {
  const p = ensureDir(dir);
  if (p)
    throw new PreflightError(p.argument ? 'E_ARGS' : 'E_RESULTS_IO', `cannot write results to ${dir}`, {
      problems: [{ message: p.message, hint: p.hint }],
    });
}
