/**
 * What a kernel snapshot was built from, cheap to re-check: each path the
 * TypeScript compiler looked at, with its size and modification time, or
 * "absent". A new @types package, an edited .d.ts or a node_modules folder
 * that appeared all show up as a changed probe.
 *
 * Node built-ins only: this module is also loaded inside the snapshot builder.
 */
import { statSync } from "node:fs";

export type Probes = Readonly<Record<string, string>>;

export function probe(file: string): string {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat) return "absent";
  return `${stat.isDirectory() ? "dir" : "file"}:${stat.size}:${stat.mtimeMs}`;
}

export function probeAll(files: Iterable<string>): Probes {
  const probes: Record<string, string> = {};
  for (const file of [...files].sort()) probes[file] = probe(file);
  return probes;
}

/** The first path that is no longer as it was, if any. */
export function firstChange(probes: Probes): string | undefined {
  return Object.keys(probes).find((file) => probe(file) !== probes[file]);
}
