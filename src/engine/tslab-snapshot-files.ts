/**
 * Run as a child by tslab-snapshot.ts, in the notebooks' folder: which declaration
 * files a tslab kernel reads there before and during its first `import … from
 * "rollcall"`, as a JSON list on stdout. Those are the files the snapshot parses once.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { projectRoot } from "./paths.js";

interface Sys {
  readFile(file: string, encoding?: string): string | undefined;
}

async function main(): Promise<void> {
  const from = (...parts: string[]) => pathToFileURL(path.join(projectRoot, "node_modules", ...parts)).href;
  const compiler = (await import(from("@tslab", "typescript-for-tslab", "lib", "typescript.js"))) as { default: { sys: Sys } };
  const sys = compiler.default.sys;
  const read = new Set<string>();
  const readFile = sys.readFile.bind(sys);
  sys.readFile = (file, encoding) => {
    const text = readFile(file, encoding);
    if (text !== undefined && file.endsWith(".d.ts")) read.add(file);
    return text;
  };
  const { createConverter } = (await import(from("tslab", "dist", "converter.js"))) as {
    createConverter(): { convert(previous: string, source: string): unknown };
  };
  createConverter().convert("", 'import { students } from "rollcall";\nstudents.length;\n');
  process.stdout.write(JSON.stringify([...read].sort()));
  process.exit(0); // the converter's file watchers would keep it alive
}

void main();
