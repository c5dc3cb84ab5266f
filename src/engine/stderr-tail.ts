/**
 * The end of what a child process wrote to stderr: kept, capped, to say why it
 * stopped. Every process rollcall starts (kernels, grading workers) keeps its
 * tail this way.
 */
import type { Readable } from "node:stream";

export interface StderrTail {
  /** The last characters written, at most the cap. */
  readonly text: string;
  /** The last `count` non-empty lines, trimmed. */
  lines(count: number): string[];
}

/**
 * Starts keeping the last `maxChars` characters of `stream` (none when there is no stream).
 *
 * @example
 * const stderr = keepStderrTail(child.stderr);
 * child.once("exit", () => console.error(stderr.lines(3).join(" | ")));
 */
export function keepStderrTail(stream: Readable | null | undefined, maxChars = 4000): StderrTail {
  let text = "";
  stream?.setEncoding("utf8").on("data", (chunk: string) => {
    text = (text + chunk).slice(-maxChars);
  });
  return {
    get text() {
      return text;
    },
    lines: (count) =>
      text
        .split("\n")
        .map((line) => line.trim())
        .filter(Boolean)
        .slice(-count),
  };
}
