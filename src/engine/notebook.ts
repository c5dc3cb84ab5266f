/**
 * Jupyter notebooks (nbformat 4.5), in memory and on disk.
 *
 * In memory a cell's source is one string; on disk it is a list of lines, keys
 * sorted and indented by one space, as Jupyter itself writes them, so that a
 * notebook saved by Jupyter and one written here diff cleanly.
 */
import { failed, ok, type Problem, type Result } from "./problem.js";

export type MimeBundle = Readonly<Record<string, unknown>>;

export type Output =
  | { readonly output_type: "stream"; readonly name: "stdout" | "stderr"; readonly text: string }
  | { readonly output_type: "display_data"; readonly data: MimeBundle; readonly metadata: MimeBundle }
  | {
      readonly output_type: "execute_result";
      readonly data: MimeBundle;
      readonly metadata: MimeBundle;
      readonly execution_count: number | null;
    }
  | { readonly output_type: "error"; readonly ename: string; readonly evalue: string; readonly traceback: readonly string[] };

/** What rollcall records about a cell of a lesson. */
export type CellRole =
  | { readonly role: "answer"; readonly exercise: string; readonly points: number }
  | { readonly role: "check"; readonly exercise: string; readonly checksum: string }
  | { readonly role: "locked"; readonly checksum: string }
  | { readonly role: "note" };

export interface CellMetadata {
  readonly rollcall?: CellRole;
  /** Jupyter's own flags: a read-only cell in Notebook, Lab and VS Code. */
  readonly editable?: boolean;
  readonly deletable?: boolean;
  readonly tags?: readonly string[];
  readonly [key: string]: unknown;
}

export interface CodeCell {
  readonly cell_type: "code";
  readonly id: string;
  readonly metadata: CellMetadata;
  readonly source: string;
  readonly outputs: readonly Output[];
  readonly execution_count: number | null;
}
export interface MarkdownCell {
  readonly cell_type: "markdown" | "raw";
  readonly id: string;
  readonly metadata: CellMetadata;
  readonly source: string;
}
export type Cell = CodeCell | MarkdownCell;

export interface Notebook {
  readonly nbformat: 4;
  readonly nbformat_minor: number;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly cells: readonly Cell[];
}

/**
 * The notebook with some code cells' sources swapped, by cell id: a learner's
 * answers, or a wrong answer in place of the solution (for validate, the tests
 * and the benchmarks).
 */
export function withSources(notebook: Notebook, sources: ReadonlyMap<string, string> | Readonly<Record<string, string>>): Notebook {
  const byId: ReadonlyMap<string, string> = sources instanceof Map ? sources : new Map(Object.entries(sources));
  return {
    ...notebook,
    cells: notebook.cells.map((c) => (c.cell_type === "code" && byId.has(c.id) ? { ...c, source: byId.get(c.id) ?? "" } : c)),
  };
}

/** The kernel every notebook asks for; `npm start` installs it under this name. */
export const TSLAB_KERNELSPEC = { name: "tslab", display_name: "TypeScript (rollcall)", language: "typescript" } as const;

/**
 * The `language_info` tslab reports, word for word (its TypeScript version is a
 * fixed "3.7.2"). Jupyter writes what the kernel reports into a notebook it opens,
 * and marks the notebook modified if that changed it; built with this, a notebook
 * opens unmodified. run.test checks it against the real kernel.
 */
export const TSLAB_LANGUAGE_INFO = {
  name: "typescript",
  version: "3.7.2",
  mimetype: "text/typescript",
  file_extension: ".ts",
  codemirror_mode: { mode: "typescript", name: "javascript", typescript: true },
} as const;

/** "a\nb\n" → ["a\n", "b\n"]: nbformat's multi-line string. */
function toLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}
const fromLines = (value: unknown): string => (Array.isArray(value) ? value.join("") : typeof value === "string" ? value : "");

/** Recursively sorts object keys, as Jupyter does when it saves. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

/** Multi-line strings as nbformat stores them: sources, stream text and text MIME data as lists of lines. */
function linesForDisk(cell: Cell): unknown {
  const outputs =
    cell.cell_type === "code"
      ? cell.outputs.map((o) => {
          if (o.output_type === "stream") return { ...o, text: toLines(o.text) };
          if (o.output_type === "error") return o;
          const data = Object.fromEntries(
            Object.entries(o.data).map(([mime, v]) => [mime, typeof v === "string" && !mime.endsWith("json") ? toLines(v) : v]),
          );
          return { ...o, data };
        })
      : undefined;
  return { ...cell, source: toLines(cell.source), ...(outputs ? { outputs } : {}) };
}

export function serializeNotebook(notebook: Notebook): string {
  const disk = { ...notebook, cells: notebook.cells.map(linesForDisk) };
  return JSON.stringify(sortKeys(disk), null, 1) + "\n";
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function readOutput(raw: unknown): Output | string {
  if (!isRecord(raw)) return "an output is not an object";
  switch (raw.output_type) {
    case "stream":
      return { output_type: "stream", name: raw.name === "stderr" ? "stderr" : "stdout", text: fromLines(raw.text) };
    case "display_data":
    case "execute_result": {
      const data = isRecord(raw.data)
        ? Object.fromEntries(Object.entries(raw.data).map(([k, v]) => [k, Array.isArray(v) ? fromLines(v) : v]))
        : {};
      const metadata = isRecord(raw.metadata) ? raw.metadata : {};
      return raw.output_type === "display_data"
        ? { output_type: "display_data", data, metadata }
        : {
            output_type: "execute_result",
            data,
            metadata,
            execution_count: typeof raw.execution_count === "number" ? raw.execution_count : null,
          };
    }
    case "error":
      return {
        output_type: "error",
        ename: String(raw.ename ?? ""),
        evalue: String(raw.evalue ?? ""),
        traceback: Array.isArray(raw.traceback) ? raw.traceback.map(String) : [],
      };
    default:
      return `an output has unknown output_type '${String(raw.output_type)}'`;
  }
}

/**
 * Reads a notebook's text. A file that is not a notebook gives problems that
 * name the file and the cell, never an exception.
 */
export function parseNotebook(text: string, file: string): Result<Notebook> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return failed([
      {
        file,
        message: `this is not a notebook: its JSON does not parse (${(error as Error).message}); open it in Jupyter and save it again, or start from a fresh copy`,
      },
    ]);
  }
  if (!isRecord(raw) || !Array.isArray(raw.cells))
    return failed([{ file, message: "this is not a Jupyter notebook: it has no list of cells" }]);
  if (raw.nbformat !== 4)
    return failed([
      { file, message: `this notebook is nbformat ${String(raw.nbformat)}; rollcall reads nbformat 4 (save it with a current Jupyter)` },
    ]);
  const problems: Problem[] = [];
  const cells: Cell[] = [];
  raw.cells.forEach((c: unknown, index: number) => {
    const cell = String(index + 1);
    if (!isRecord(c)) {
      problems.push({ file, cell, message: "this cell is not an object" });
      return;
    }
    const id = typeof c.id === "string" && c.id ? c.id : `cell-${index + 1}`;
    const metadata = (isRecord(c.metadata) ? c.metadata : {}) as CellMetadata;
    const source = fromLines(c.source);
    if (c.cell_type === "code") {
      const outputs: Output[] = [];
      for (const o of Array.isArray(c.outputs) ? c.outputs : []) {
        const read = readOutput(o);
        if (typeof read === "string") problems.push({ file, cell, message: read });
        else outputs.push(read);
      }
      cells.push({
        cell_type: "code",
        id,
        metadata,
        source,
        outputs,
        execution_count: typeof c.execution_count === "number" ? c.execution_count : null,
      });
    } else if (c.cell_type === "markdown" || c.cell_type === "raw") {
      cells.push({ cell_type: c.cell_type, id, metadata, source });
    } else {
      problems.push({ file, cell, message: `unknown cell_type '${String(c.cell_type)}' (expected code, markdown or raw)` });
    }
  });
  if (problems.length) return failed(problems);
  return ok({
    nbformat: 4,
    nbformat_minor: typeof raw.nbformat_minor === "number" ? raw.nbformat_minor : 5,
    metadata: isRecord(raw.metadata) ? raw.metadata : {},
    cells,
  });
}
