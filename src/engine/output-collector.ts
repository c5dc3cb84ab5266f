/**
 * Turns a cell's output messages into notebook outputs the way Jupyter's own
 * client does: consecutive stream text of the same name is joined,
 * clear_output empties the cell, update_display_data replaces a display in place.
 * Text past a cap is cut with a note, so that a flood cannot swamp the runner.
 */
import type { CellStatus, Execution } from "./kernel-seam.js";
import type { MimeBundle, Output } from "./notebook.js";

export const DEFAULT_MAX_OUTPUT_CHARS = 1_000_000;

export class OutputCollector {
  private outputs: Output[] = [];
  /** A display's id, for update_display_data, kept out of the notebook itself. */
  private readonly displayIds = new WeakMap<Output, string>();
  private chars = 0;
  private truncated = false;
  private clearOnNext = false;
  private status: CellStatus = "ok";
  private message: string | undefined;
  private timeoutMessage: string | undefined;
  private count: number | null = null;
  private readonly started = performance.now();
  private durationMs = 0;

  constructor(private readonly maxChars: number = DEFAULT_MAX_OUTPUT_CHARS) {}

  /** Takes what is left of the character budget; false once it is spent. */
  private spend(text: string): string | undefined {
    if (this.truncated) return undefined;
    const room = this.maxChars - this.chars;
    if (text.length <= room) {
      this.chars += text.length;
      return text;
    }
    this.truncated = true;
    this.chars = this.maxChars;
    return `${text.slice(0, Math.max(0, room))}${this.cutNote()}`;
  }

  private cutNote(): string {
    return `\n… output cut: this cell printed more than ${this.maxChars.toLocaleString("en")} characters.\n`;
  }

  /** Adds stream text at the end, joined to the last output when it is the same stream, as Jupyter does. */
  private appendStream(name: "stdout" | "stderr", text: string): void {
    const last = this.outputs.at(-1);
    if (last?.output_type === "stream" && last.name === name) this.outputs[this.outputs.length - 1] = { ...last, text: last.text + text };
    else this.outputs.push({ output_type: "stream", name, text });
  }

  add(msgType: string, content: Record<string, unknown>): void {
    if (msgType === "clear_output") {
      if (content.wait === true) this.clearOnNext = true;
      else this.outputs = [];
      return;
    }
    if (this.clearOnNext) {
      this.outputs = [];
      this.clearOnNext = false;
    }
    const data = (content.data ?? {}) as MimeBundle;
    const metadata = (content.metadata ?? {}) as MimeBundle;
    switch (msgType) {
      case "stream": {
        const name = content.name === "stderr" ? "stderr" : "stdout";
        const text = this.spend(String(content.text ?? ""));
        if (text !== undefined) this.appendStream(name, text);
        return;
      }
      case "display_data":
      case "execute_result": {
        if (this.truncated) return;
        const size = JSON.stringify(data).length;
        if (size > this.maxChars - this.chars) {
          // A display cannot be cut in half: it is left out, and the note says the output was cut here.
          this.truncated = true;
          this.chars = this.maxChars;
          this.appendStream("stdout", this.cutNote());
          return;
        }
        this.chars += size;
        const displayId = (content.transient as { display_id?: string } | undefined)?.display_id;
        const output: Output =
          msgType === "display_data"
            ? { output_type: "display_data", data, metadata }
            : {
                output_type: "execute_result",
                data,
                metadata,
                execution_count: typeof content.execution_count === "number" ? content.execution_count : null,
              };
        if (displayId) this.displayIds.set(output, displayId);
        this.outputs.push(output);
        return;
      }
      case "update_display_data": {
        const displayId = (content.transient as { display_id?: string } | undefined)?.display_id;
        this.outputs = this.outputs.map((o) => {
          if (!displayId || this.displayIds.get(o) !== displayId || o.output_type !== "display_data") return o;
          const updated: Output = { ...o, data, metadata };
          this.displayIds.set(updated, displayId); // so that the next update finds it too
          return updated;
        });
        return;
      }
      case "error": {
        const traceback = Array.isArray(content.traceback) ? content.traceback.map(String) : [];
        this.outputs.push({
          output_type: "error",
          ename: String(content.ename ?? "Error"),
          evalue: String(content.evalue ?? ""),
          traceback,
        });
        return;
      }
      default:
        return; // execute_input and the like carry no output
    }
  }

  /** Marks the cell as stopped by its time limit (the kernel's reply may still follow). */
  timedOut(message: string): void {
    this.timeoutMessage = message;
  }

  finish(status: CellStatus, message?: string, executionCount?: unknown): this {
    this.status = this.timeoutMessage ? "timeout" : status;
    this.message = this.timeoutMessage ?? message;
    this.count = typeof executionCount === "number" ? executionCount : null;
    this.durationMs = performance.now() - this.started;
    return this;
  }

  result(): Execution {
    return {
      status: this.status,
      outputs: this.outputs,
      executionCount: this.count,
      durationMs: this.durationMs,
      ...(this.message ? { message: this.message } : {}),
    };
  }
}
