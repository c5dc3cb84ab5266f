#!/usr/bin/env node
/**
 * npm run bench [-- execute|grade|shards|class-file|present|class|pulse]: the issues' figures, each a ratio against the named
 * peer measured in the same run. Results also go to bench/results/<name>.json.
 */
import path from "node:path";
import { fs } from "zx";
import { projectRoot } from "../src/engine/paths.js";
import { runMain } from "../scripts/run-main.mjs";
import { benchClass } from "./class.mjs";
import { benchClassFile } from "./class-file.mjs";
import { benchExecute } from "./execute.mjs";
import { benchGrade } from "./grade.mjs";
import { benchPresent } from "./present.mjs";
import { benchPulse } from "./pulse.mjs";
import { benchShards } from "./shards.mjs";

const benches: Record<string, () => Promise<Record<string, number>>> = {
  execute: () => benchExecute(),
  grade: () => benchGrade(),
  shards: () => benchShards(),
  "class-file": () => benchClassFile(),
  present: () => benchPresent(),
  class: () => benchClass(),
  pulse: () => benchPulse(),
};

async function main(): Promise<number> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !(w in benches));
  if (unknown.length) {
    console.error(`unknown benchmark '${unknown[0]}': choose from ${Object.keys(benches).join(", ")}`);
    return 2;
  }
  for (const name of wanted.length ? wanted : Object.keys(benches)) {
    console.log(`## ${name}  (${new Date().toISOString()}, ${process.version}, ${(await import("node:os")).cpus().length} cores)`);
    const figures = await benches[name]?.();
    for (const [label, value] of Object.entries(figures ?? {})) console.log(`${label.padEnd(55)} ${value.toFixed(2)}`);
    await fs.outputJson(path.join(projectRoot, "bench", "results", `${name}.json`), figures, { spaces: 2 });
  }
  return 0;
}

runMain("bench", main);
