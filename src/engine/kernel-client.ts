/**
 * A Jupyter kernel process spoken to over ZeroMQ with the Jupyter messaging
 * protocol (v5.3), the way Jupyter itself talks to it. No Python is needed:
 * this is how the headless runner drives the real tslab kernel.
 */
import { interruptThenKill } from "./limits.js";
import { keepStderrTail, type StderrTail } from "./stderr-tail.js";
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Dealer, Subscriber } from "zeromq";
import type { ExecuteOptions, Execution, Kernel, KernelCommand } from "./kernel-seam.js";
import { OutputCollector } from "./output-collector.js";
import { freePorts, givePortsBack } from "./free-ports.js";

const DELIMITER = "<IDS|MSG>";
const PROTOCOL_VERSION = "5.3";
/** How long an interrupted cell may take to stop before the kernel is killed. */
/** How long to wait for a cell's idle status once its reply is in. */
const IDLE_GRACE_MS = 1000;

export interface Message {
  readonly header: { readonly msg_id: string; readonly msg_type: string };
  readonly parent_header: { readonly msg_id?: string };
  readonly content: Record<string, unknown>;
}

interface Pending {
  readonly collector: OutputCollector;
  reply?: Record<string, unknown>;
  idle: boolean;
  readonly done: () => void;
}

export interface StartOptions {
  /** The kernel's working folder: tslab resolves imports and roots its compiler here. */
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Give up if the kernel has not answered kernel_info by then. */
  readonly startTimeoutMs?: number;
}

/** A kernel that could not bind a port chosen for it: started again on others, this many times at most. */
class PortTaken extends Error {}
const PORT_ATTEMPTS = 4;
/** How long a kernel that has not answered kernel_info yet is given before it is asked again. */
const REASK_MS = 1000;
/**
 * Whether a starting kernel's last words say it could not bind one of `ports`: "address
 * already in use", or any bind error zeromq reports with the address it was given (one
 * CI run saw EBUSY there), so that such a kernel is started again on other ports.
 */
export function couldNotBind(stderr: readonly string[], ports: readonly number[]): boolean {
  const named = new Set(ports.map((p) => `tcp://127.0.0.1:${p}`));
  return stderr.some(
    (line) =>
      /EADDRINUSE|Address already in use/.test(line) || [...line.matchAll(/address: '([^']+)'/g)].some((m) => named.has(m[1] ?? "")),
  );
}

/** A kernel's connection file over TCP on loopback: its key, and its shell, iopub, stdin, control and heartbeat ports in that order. */
export function connectionText(key: string, ports: readonly number[]): string {
  const [shell_port, iopub_port, stdin_port, control_port, hb_port] = ports;
  const info = { ip: "127.0.0.1", transport: "tcp", signature_scheme: "hmac-sha256", key };
  return JSON.stringify({ ...info, shell_port, iopub_port, stdin_port, control_port, hb_port });
}

export class JupyterKernel implements Kernel {
  private readonly session = randomUUID();
  private readonly pending = new Map<string, Pending>();
  private readonly shell = new Dealer({ linger: 0 });
  private readonly iopub = new Subscriber({ linger: 0 });
  private stderr: StderrTail | undefined;
  private exit: string | undefined;
  private waitingInfo: ((m: Message, fromIopub: boolean) => void) | undefined;
  /** When the last cell failed, for kernels that abort what arrives just after an error. */
  private lastFailure = -Infinity;
  /** What the kernel said of its language when it first answered (kernel_info's `language_info`). */
  languageInfo: Readonly<Record<string, unknown>> | undefined;

  private constructor(
    private readonly child: ChildProcess,
    private readonly key: string,
    private readonly folder: string,
    private readonly abortWindowMs: number,
    private readonly ports: readonly number[],
  ) {}

  get alive(): boolean {
    return this.exit === undefined;
  }

  /**
   * Starts the kernel and resolves once it answers and its output channel is live.
   * The ports are free when chosen, but another process (or this one's own outgoing
   * connections) may take one before the kernel binds it, as happens when a class
   * starts thirty kernels at once; Jupyter then starts again on other ports, and so does this.
   */
  static async start(command: KernelCommand, options: StartOptions): Promise<JupyterKernel> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await JupyterKernel.startOnce(command, options);
      } catch (error) {
        if (!(error instanceof PortTaken) || attempt === PORT_ATTEMPTS) throw error;
      }
    }
  }

  private static async startOnce(command: KernelCommand, options: StartOptions): Promise<JupyterKernel> {
    const folder = await mkdtemp(path.join(os.tmpdir(), "rollcall-kernel-"));
    const ports = await freePorts(5);
    const [shell, iopub] = ports as [number, number];
    const key = randomUUID();
    const connectionFile = path.join(folder, "connection.json");
    await writeFile(connectionFile, connectionText(key, ports), { mode: 0o600 }).catch((error: unknown) => {
      givePortsBack(ports); // never handed to a kernel
      throw error;
    });
    const [program, ...args] = command.argv.map((a) => a.replace("{connection_file}", connectionFile));
    const child = spawn(program ?? "", args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "ignore", "pipe"] });
    const kernel = new JupyterKernel(child, key, folder, command.abortWindowMs ?? 0, ports);
    kernel.watch(command.name);
    kernel.shell.connect(`tcp://127.0.0.1:${shell}`);
    kernel.iopub.connect(`tcp://127.0.0.1:${iopub}`);
    kernel.iopub.subscribe();
    void kernel.listen(kernel.shell);
    void kernel.listen(kernel.iopub);
    try {
      await kernel.waitUntilReady(options.startTimeoutMs ?? 30_000);
    } catch (error) {
      await kernel.stop();
      throw error;
    }
    return kernel;
  }

  private watch(name: string): void {
    this.stderr = keepStderrTail(this.child.stderr, 2000);
    const ended = (why: string): void => {
      if (this.exit !== undefined) return;
      const last = this.stderr?.lines(5) ?? [];
      const said = last.length ? `; it said: ${last.join(" | ")}` : "";
      this.exit = `the ${name} kernel ${why}${said}`;
      givePortsBack(this.ports);
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.collector.finish("died", this.exit);
        p.done();
      }
    };
    this.child.on("error", (error) => ended(`could not start (${error.message})`));
    this.child.on("exit", (code, signal) => ended(signal ? `was stopped by ${signal}` : `exited with code ${String(code)}`));
  }

  /**
   * The output channel (a ZeroMQ subscription) drops what is published before it
   * connects: once the kernel answers kernel_info, ask again every 20 ms until
   * its status messages arrive on the output channel too.
   */
  private async waitUntilReady(timeoutMs: number): Promise<void> {
    const asked = new Set<string>();
    let answered = false;
    let live = false;
    /** Once it answers, one request at a time: a burst of them is what a loaded kernel can trip over. */
    let waiting = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const deadline = Date.now() + timeoutMs;
        this.waitingInfo = (m, fromIopub) => {
          if (!asked.has(m.parent_header.msg_id ?? "")) return;
          // Ready once the output channel is live and a reply (with the kernel's language) has come: either may arrive first.
          if (fromIopub) live = true;
          else {
            answered = true;
            waiting = false;
            this.languageInfo ??= m.content.language_info as Record<string, unknown> | undefined;
          }
          if (live && answered) resolve();
        };
        let askedAt = 0;
        const ask = (): void => {
          const id = randomUUID();
          asked.add(id);
          waiting = true;
          askedAt = Date.now();
          void this.send(this.shell, "kernel_info_request", {}, id);
        };
        ask();
        timer = setInterval(() => {
          const portTaken = couldNotBind(this.stderr?.lines(20) ?? [], this.ports);
          if (this.exit) reject(portTaken ? new PortTaken(this.exit) : new Error(this.exit));
          else if (portTaken) reject(new PortTaken(this.stderr?.lines(3).join(" | ") ?? ""));
          else if (Date.now() > deadline) {
            const last = this.stderr?.lines(5) ?? [];
            const said = last.length ? `; it said: ${last.join(" | ")}` : "";
            reject(new Error(`the kernel did not answer within ${Math.round(timeoutMs / 1000)} s${said}`));
          } else if (answered ? !waiting : Date.now() - askedAt > REASK_MS) ask(); // a request a starting kernel lost is asked again, as Jupyter's client does
        }, 20);
      });
    } finally {
      clearInterval(timer);
      this.waitingInfo = undefined;
    }
  }

  private sign(frames: readonly string[]): string {
    const hmac = createHmac("sha256", this.key);
    for (const f of frames) hmac.update(f);
    return hmac.digest("hex");
  }

  private async send(socket: Dealer, msgType: string, content: object, id: string = randomUUID()): Promise<string> {
    const header = {
      msg_id: id,
      session: this.session,
      username: "rollcall",
      date: new Date().toISOString(),
      msg_type: msgType,
      version: PROTOCOL_VERSION,
    };
    const frames = [JSON.stringify(header), "{}", "{}", JSON.stringify(content)];
    await socket.send([DELIMITER, this.sign(frames), ...frames]);
    return header.msg_id;
  }

  private decode(frames: readonly Buffer[]): Message | undefined {
    const at = frames.findIndex((f) => f.toString() === DELIMITER);
    if (at < 0) return undefined;
    const [signature, header, parent, metadata, content] = frames.slice(at + 1, at + 6).map((f) => f.toString());
    if (content === undefined || signature !== this.sign([header ?? "", parent ?? "", metadata ?? "", content])) return undefined;
    return { header: JSON.parse(header ?? "{}"), parent_header: JSON.parse(parent ?? "{}"), content: JSON.parse(content) };
  }

  private async listen(socket: Dealer | Subscriber): Promise<void> {
    try {
      for await (const frames of socket) {
        const message = this.decode(frames);
        if (message) this.route(message, socket === this.iopub);
      }
    } catch {
      // The socket was closed: the kernel is stopping.
    }
  }

  private route(message: Message, fromIopub: boolean): void {
    this.waitingInfo?.(message, fromIopub);
    const id = message.parent_header.msg_id ?? "";
    const pending = this.pending.get(id);
    if (!pending) return;
    if (!fromIopub) {
      if (message.header.msg_type !== "execute_reply") return;
      pending.reply = message.content;
      // tslab drops iopub messages when a cell floods its output, the idle status
      // among them; like nbclient, stop waiting for it a while after the reply.
      setTimeout(() => this.settle(id), IDLE_GRACE_MS).unref();
    } else if (message.header.msg_type === "status") {
      pending.idle = message.content.execution_state === "idle";
    } else {
      pending.collector.add(message.header.msg_type, message.content);
    }
    // Done when both the reply (shell) and the idle status (iopub) are in, as nbclient waits.
    if (pending.reply && pending.idle) this.settle(id);
  }

  private settle(id: string): void {
    const pending = this.pending.get(id);
    if (!pending?.reply) return;
    this.pending.delete(id);
    const status = pending.reply.status;
    pending.collector.finish(
      status === "ok" ? "ok" : status === "abort" || status === "aborted" ? "aborted" : "error",
      undefined,
      pending.reply.execution_count,
    );
    pending.done();
  }

  async execute(code: string, options: ExecuteOptions = {}): Promise<Execution> {
    const collector = new OutputCollector(options.maxOutputChars);
    if (this.exit) return collector.finish("died", this.exit).result();
    const wait = this.lastFailure + this.abortWindowMs - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    // stopped while it waited: nothing would ever answer
    if (this.exit) return collector.finish("died", this.exit).result();
    let settled = (): void => {};
    await new Promise<void>((done) => {
      const id = randomUUID();
      // Registered before sending, so that no message about it can arrive unheard.
      this.pending.set(id, { collector, idle: false, done });
      const content = { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true };
      void this.send(this.shell, "execute_request", content, id);
      if (options.timeoutMs !== undefined) {
        const seconds = options.timeoutMs / 1000;
        settled = interruptThenKill(options.timeoutMs, {
          interrupt: () => {
            collector.timedOut(`stopped: this cell was still running after ${seconds} s (an endless loop?), so it was interrupted`);
            this.interrupt();
          },
          kill: () => {
            collector.timedOut(`stopped: this cell ran past ${seconds} s and did not stop when interrupted, so its kernel was shut down`);
            this.child.kill("SIGKILL");
          },
        });
      }
    });
    settled();
    const result = collector.result();
    if (result.status !== "ok") this.lastFailure = performance.now();
    return result;
  }

  interrupt(): void {
    if (this.alive) this.child.kill("SIGINT");
  }

  async stop(): Promise<void> {
    if (this.alive) {
      // A kernel keeps nothing worth a graceful goodbye (tslab lingers after
      // shutdown_request), so it is simply ended.
      const exited = new Promise((resolve) => this.child.once("exit", resolve));
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), 1000);
      await exited;
      clearTimeout(timer);
    }
    givePortsBack(this.ports);
    for (const socket of [this.shell, this.iopub]) socket.close();
    await rm(this.folder, { recursive: true, force: true });
  }
}
