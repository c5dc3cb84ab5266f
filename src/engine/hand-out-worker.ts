/**
 * The hand-out's writing half, run by `handOut` as a child with the learner's uid and gid: reads
 * `{ home, day, files }` (see `WorkerInput`) on stdin, writes into that home with the learner's own
 * rights, prints the report as JSON. Not a command of its own.
 */
import { applyHandOut, type WorkerInput } from "./hand-out.js";

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const input = JSON.parse(Buffer.concat(chunks).toString("utf8")) as WorkerInput;
  const files = new Map(Object.entries(input.files).map(([name, base64]) => [name, Buffer.from(base64, "base64")]));
  process.stdout.write(JSON.stringify(await applyHandOut(input.home, files, input.day)));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
