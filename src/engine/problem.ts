/**
 * A mistake in something a user gave us (a lesson file, a notebook, a command
 * line) or in what their machine lacks, as a value: where it is and what to do
 * about it. Stack traces are for bugs in rollcall; problems are for users. Every
 * error value of the engine is one of these, or a `Result` that holds them.
 */
export interface Problem {
  /** The file the problem is in, as the user named it, when it is in one. */
  readonly file?: string;
  /** 1-based line in that file (or in the source it came from, before it is placed in a file), when there is one. */
  readonly line?: number;
  /** The notebook cell (id or 1-based number), when there is one. */
  readonly cell?: string;
  /** What is wrong and what to do, in one or two sentences. */
  readonly message: string;
}

/** `file:line: message` or `file (cell c): message`, the way compilers say it; just the message when there is no file. */
export function formatProblem(p: Problem): string {
  if (p.file === undefined) return p.message;
  const where = p.line !== undefined ? `${p.file}:${p.line}` : p.cell !== undefined ? `${p.file} (cell ${p.cell})` : p.file;
  return `${where}: ${p.message}`;
}

/** Either a value or the problems that stopped us from making it. */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly problems: readonly Problem[] };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const failed = <T>(problems: readonly Problem[]): Result<T> => ({ ok: false, problems });
