/**
 * The grader's side of its channel to a worker: one JSON value a line, over a pipe
 * of their own (the worker reads and writes its end with plain calls on the file
 * descriptor). A line that is not JSON (a learner's code can write to the pipe's
 * descriptor) is reported to the reader, never thrown where it would end the
 * grader, as a malformed frame on Node's own IPC channel does.
 */
import type { Readable } from "node:stream";

/** Longer than any message the grader sends or expects (outputs are capped well below). */
const MAX_LINE = 16 * 1024 * 1024;

export function readJsonLines(stream: Readable, onValue: (value: unknown) => void, onGarbled: () => void): void {
  let buffered = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buffered += chunk;
    for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        onGarbled();
        continue;
      }
      onValue(value);
    }
    if (buffered.length > MAX_LINE) {
      buffered = "";
      onGarbled();
    }
  });
}

export const jsonLine = (value: unknown): string => `${JSON.stringify(value)}\n`;
