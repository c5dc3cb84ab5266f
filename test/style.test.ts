/** The tree's style is checked, not argued: prettier's formatting and typescript-eslint's recommended rules (npm run format / npm run lint fix and show). */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { projectRoot } from "../src/engine/paths.js";

const run = promisify(execFile);
const bin = (file: string): string => path.join(projectRoot, "node_modules", file);

async function tool(file: string, args: readonly string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin(file), ...args], { cwd: projectRoot, maxBuffer: 16 << 20 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : 1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

test("every TypeScript and JSON file is formatted by prettier (npm run format)", { timeout: 120_000 }, async () => {
  const { code, output } = await tool("prettier/bin/prettier.cjs", ["--check", "."]);
  assert.equal(code, 0, `not formatted; run npm run format:\n${output}`);
});

test("typescript-eslint's recommended rules find nothing (npm run lint)", { timeout: 120_000 }, async () => {
  const { code, output } = await tool("eslint/bin/eslint.js", ["."]);
  assert.equal(code, 0, output);
});
