/**
 * The presenter: serves a lesson's deck (slides.ts) on the instructor's own
 * machine and runs its cells in one real kernel, the same client `npm run execute`
 * uses. Node's own http is enough: the page asks, the server answers when the
 * cell is done (a cell's outputs come back whole, as nbformat outputs), and Stop
 * and Restart are requests of their own, so no socket library is needed.
 *
 * Every file the page loads comes from here: reveal.js from node_modules/, the
 * presenter's script and style from present-page/, images from notebooks/.
 * The API runs code, so it wants the token printed in the URL, sent by the page
 * in a header of its own on every request: no cookie, which the browser would
 * also send to any other server on 127.0.0.1 (cookies do not keep to a port), and
 * no query string, which ends up in logs. Requests must name this server in their
 * Host header (no DNS rebinding), and the deck is never framed by another site.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import path from "node:path";
import type { ClassFile } from "./class-file.js";
import type { Execution, Kernel } from "./kernel-seam.js";
import { formatProblem, failed, ok, type Result } from "./problem.js";
import { exercisePulse, pickPool, renderExercisePulse, type PulseGroup, type PulseSource } from "./pulse-presenter.js";
import { renderDeckPage, type Deck } from "./slides.js";

/** A cell of a run request: its id and the code as the slide shows it now (maybe edited). */
export interface RunCell {
  readonly id: string;
  readonly code: string;
}

export type CellResult = (Execution | { readonly status: "skipped"; readonly outputs: readonly []; readonly message: string }) & {
  readonly id: string;
};

/** A slide shows this much text output at most; a runaway print loop must not stall the page. */
const MAX_OUTPUT_CHARS = 100_000;

/**
 * One kernel for the deck, and which cells it has run since it started. Runs go
 * one at a time, in the order asked. A run is a chain: the earlier cells the page
 * wants run first (skipped here when this kernel already ran them), then the cell asked for.
 */
export class DeckKernel {
  private kernel: Promise<Kernel> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** Bumped by Stop and Restart: a run asked before a bump stops at its first cell after it. */
  private generation = 0;
  readonly ran = new Map<string, CellResult>();

  constructor(private readonly start: () => Promise<Kernel>) {}

  private begin(): Promise<Kernel> {
    const started = this.start();
    started.catch(() => undefined); // reported by the first run that needs it
    return started;
  }

  /** Starts the kernel if it is not started yet; resolves once it answers (or rejects with why it could not start). */
  ready(): Promise<Kernel> {
    return (this.kernel ??= this.begin());
  }

  run(chain: readonly RunCell[]): Promise<CellResult[]> {
    // the generation it was asked in: a Stop or Restart pressed while it waits its turn ends it too
    const generation = this.generation;
    const task = this.queue.then(() => this.runNow(chain, generation));
    this.queue = task.catch(() => undefined);
    return task;
  }

  private async runNow(chain: readonly RunCell[], generation: number): Promise<CellResult[]> {
    const results: CellResult[] = [];
    for (const [i, cell] of chain.entries()) {
      const asked = i === chain.length - 1;
      if (!asked && this.ran.has(cell.id)) continue;
      if (this.generation !== generation) {
        results.push({ id: cell.id, status: "skipped", outputs: [], message: "not run: stopped before this cell" });
        continue;
      }
      let execution: Execution;
      const kernel = this.ready();
      try {
        execution = await (await kernel).execute(cell.code, { maxOutputChars: MAX_OUTPUT_CHARS });
      } catch (error) {
        execution = {
          status: "died",
          outputs: [],
          executionCount: null,
          durationMs: 0,
          message: `the kernel could not start: ${(error as Error).message}`,
        };
      }
      const result: CellResult = { id: cell.id, ...execution };
      // an answer of the kernel a Restart replaced is not something the new one ran
      if (this.kernel === kernel) this.ran.set(cell.id, result);
      results.push(result);
    }
    return results;
  }

  /** Stops the running cell, the rest of its chain and the runs waiting behind it, as Jupyter's ■ does. */
  async interrupt(): Promise<void> {
    this.generation++;
    (await this.kernel?.catch(() => undefined))?.interrupt();
  }

  /** A fresh kernel: nothing has run in it. */
  async restart(): Promise<void> {
    this.generation++;
    const old = this.kernel;
    this.ran.clear();
    this.kernel = this.begin();
    await (await old?.catch(() => undefined))?.stop();
    await this.kernel;
  }

  async stop(): Promise<void> {
    this.generation++;
    await (await this.kernel?.catch(() => undefined))?.stop();
  }
}

export interface PresenterOptions {
  readonly lesson: string;
  readonly host: string;
  readonly port: number;
  /** Builds the deck afresh on every page load, so an edited lesson shows on reload. */
  readonly loadDeck: () => Promise<Result<Deck>>;
  readonly startKernel: () => Promise<Kernel>;
  /** reveal.js's dist/ folder, the presenter's page files, and where relative images are looked up. */
  readonly folders: { readonly reveal: string; readonly page: string; readonly files: string };
  readonly classFile?: ClassFile;
  /** The class pulse to show on exercise slides, and to pick among its stuck or done. */
  readonly pulse?: PulseSource;
  readonly now?: () => number;
}

export interface Presenter {
  /** The deck's address, with its token. */
  readonly url: string;
  readonly port: number;
  readonly kernel: DeckKernel;
  close(): Promise<void>;
}

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
};
const IMAGE = /\.(svg|png|jpe?g|gif|webp)$/i;
const MAX_BODY = 1 << 20;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: string | Buffer, type: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store", "x-content-type-options": "nosniff", ...headers });
  res.end(body);
}

const sendJson = (res: ServerResponse, status: number, value: unknown): void =>
  send(res, status, JSON.stringify(value), "application/json; charset=utf-8");

async function readJson(req: IncomingMessage): Promise<unknown> {
  if (!/^application\/json\b/.test(req.headers["content-type"] ?? ""))
    throw new HttpError(415, "send JSON (content-type: application/json)");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, "the request is too large");
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  } catch {
    throw new HttpError(400, "the request is not valid JSON");
  }
}

/** `{ chain: [{ id, code }, …] }`, checked. */
function readChain(body: unknown): RunCell[] {
  const chain = (body as { chain?: unknown }).chain;
  if (!Array.isArray(chain) || chain.length === 0) throw new HttpError(400, "say which cells to run: { chain: [{ id, code }] }");
  return chain.map((c: unknown) => {
    const { id, code } = (c ?? {}) as { id?: unknown; code?: unknown };
    if (typeof id !== "string" || typeof code !== "string") throw new HttpError(400, "each cell to run needs an id and its code");
    return { id, code };
  });
}

/** An exercise's name as lessons write them; anything else never reaches the pulse. */
function readExercise(value: unknown): string {
  if (typeof value !== "string" || !/^[a-z0-9][a-z0-9-]{0,63}$/.test(value))
    throw new HttpError(400, "say which exercise: its name, like enroll");
  return value;
}

/** The file `relative` inside `folder`, or undefined when the path would leave it. */
function inside(folder: string, relative: string): string | undefined {
  const file = path.resolve(folder, `.${path.posix.normalize(`/${relative}`)}`);
  return file.startsWith(folder + path.sep) ? file : undefined;
}

async function sendFile(res: ServerResponse, folder: string, relative: string): Promise<void> {
  const file = inside(path.resolve(folder), decodeURIComponent(relative));
  const type = file ? TYPES[path.extname(file).toLowerCase()] : undefined;
  const body = file && type ? await readFile(file).catch(() => undefined) : undefined;
  if (!body || !type) throw new HttpError(404, `no such file: ${relative}`);
  send(res, 200, body, type, { "cache-control": "no-cache" });
}

const sameToken = (given: string | undefined, token: string): boolean =>
  given !== undefined && given.length === token.length && timingSafeEqual(Buffer.from(given), Buffer.from(token));

/** The names a browser on this machine reaches the presenter by: its address and loopback's, with the port. */
function knownHosts(host: string, port: number): Set<string> {
  const names = ["127.0.0.1", "localhost", "[::1]", host.includes(":") ? `[${host}]` : host];
  return new Set(names.map((name) => `${name}:${port}`.toLowerCase()));
}

/** Starts serving; a port that is taken or an address that is not this machine's is a problem, not a throw. */
export async function startPresenter(options: PresenterOptions): Promise<Result<Presenter>> {
  const token = randomBytes(18).toString("base64url");
  const startedAt = (options.now ?? Date.now)();
  const kernel = new DeckKernel(options.startKernel);
  const deckPath = `/${options.lesson}`;
  let hosts = new Set<string>(); // known once the port is

  /** The pulse of an exercise of this lesson, or an HttpError saying why there is none. */
  const pulseOf = async (exercise: string) => {
    if (!options.pulse) throw new HttpError(404, "no class pulse: start the presenter with --class NAME --pulse");
    const pulse = await exercisePulse(options.pulse, options.lesson, exercise);
    if (!pulse.ok) throw new HttpError(502, pulse.problems.map(formatProblem).join("\n"));
    return pulse.value;
  };

  /** `{ among: "stuck" | "done", exercise }`: the emails of that group now, from the pulse. */
  const amongOf = async (body: unknown): Promise<readonly string[] | undefined> => {
    const { among, exercise } = (body ?? {}) as { among?: unknown; exercise?: unknown };
    if (among === undefined) return undefined;
    if (among !== "stuck" && among !== "done") throw new HttpError(400, 'pick among "stuck" or "done"');
    const name = readExercise(exercise);
    const group = pickPool(await pulseOf(name), among as PulseGroup);
    if (group.length === 0)
      throw new HttpError(409, among === "stuck" ? `nobody is stuck on ${name} right now` : `nobody has passed ${name} yet`);
    return group;
  };

  const api = async (req: IncomingMessage, res: ServerResponse, route: string, query: URLSearchParams): Promise<void> => {
    const post = req.method === "POST";
    if (route === "state" && req.method === "GET") return sendJson(res, 200, { ran: Object.fromEntries(kernel.ran) });
    if (route === "pulse" && req.method === "GET") {
      const pulse = await pulseOf(readExercise(query.get("exercise")));
      return sendJson(res, 200, { exercise: pulse.exercise, html: renderExercisePulse(pulse) });
    }
    if (!post) throw new HttpError(405, "use POST");
    const body = await readJson(req);
    switch (route) {
      case "run":
        return sendJson(res, 200, { results: await kernel.run(readChain(body)) });
      case "interrupt":
        await kernel.interrupt();
        return sendJson(res, 200, {});
      case "restart":
        await kernel.restart().catch((error: Error) => {
          throw new HttpError(500, `the kernel could not start again: ${error.message}`);
        });
        return sendJson(res, 200, {});
    }
    const classFile = options.classFile;
    if (!classFile) throw new HttpError(404, "no class: start the presenter with --class NAME");
    const absent = (body as { absent?: unknown }).absent;
    const among = route === "pick" ? await amongOf(body) : undefined;
    const picked =
      route === "pick"
        ? classFile.pick({ ...(Array.isArray(absent) ? { absent: absent.map(String) } : {}), ...(among ? { among } : {}) })
        : route === "undo"
          ? await classFile.undo()
          : route === "answers"
            ? ok(classFile.answerCounts())
            : undefined;
    if (!picked) throw new HttpError(404, `no such request: ${route}`);
    if (!picked.ok) return sendJson(res, 409, { error: picked.problems.map(formatProblem).join("\n") });
    return sendJson(res, 200, route === "answers" ? { counts: picked.value } : { picked: picked.value });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://presenter.invalid");
    const route = url.pathname;
    if (!hosts.has((req.headers.host ?? "").toLowerCase()) && options.host !== "0.0.0.0" && options.host !== "::")
      throw new HttpError(421, "this presenter answers only to its own address: open the address npm run present printed");
    if (route.startsWith("/vendor/reveal/")) return sendFile(res, options.folders.reveal, route.slice("/vendor/reveal/".length));
    if (route.startsWith("/static/")) return sendFile(res, options.folders.page, route.slice("/static/".length));
    if (route === "/favicon.ico") {
      res.writeHead(204);
      return void res.end();
    }
    if (route === "/") {
      res.writeHead(302, { location: `${deckPath}${url.search}` });
      return void res.end();
    }
    if (route === deckPath) {
      if (!sameToken(url.searchParams.get("token") ?? undefined, token))
        throw new HttpError(403, "open the address npm run present printed (it has the token)");
      const deck = await options.loadDeck();
      if (!deck.ok) throw new HttpError(500, deck.problems.map(formatProblem).join("\n"));
      const page = renderDeckPage(deck.value, {
        revealBase: "/vendor/reveal",
        staticBase: "/static",
        startedAt,
        ...(options.classFile ? { className: options.classFile.name } : {}),
        pulse: options.pulse !== undefined,
      });
      return send(res, 200, page, TYPES[".html"] ?? "text/html", {
        "x-frame-options": "SAMEORIGIN",
        "content-security-policy": "frame-ancestors 'self'",
        "referrer-policy": "no-referrer",
      });
    }
    if (route.startsWith("/api/")) {
      if (!sameToken(req.headers["x-rollcall-token"]?.toString(), token))
        throw new HttpError(403, "this presenter's token is missing: reload the address npm run present printed");
      return api(req, res, route.slice("/api/".length), url.searchParams);
    }
    if (IMAGE.test(route)) return sendFile(res, options.folders.files, route.slice(1));
    throw new HttpError(404, `nothing at ${route}`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      if (res.headersSent) res.end();
      else if (req.url?.startsWith("/api/")) sendJson(res, status, { error: message });
      else send(res, status, message, "text/plain; charset=utf-8");
    });
  });

  const listening = await listen(server, options.host, options.port);
  if (!listening.ok) return listening;
  const port = listening.value;
  hosts = knownHosts(options.host, port);
  void kernel.ready().catch(() => undefined); // warm it up while the page loads
  const shownHost = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  return ok({
    url: `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}${deckPath}?token=${token}`,
    port,
    kernel,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await kernel.stop();
    },
  });
}

function listen(server: Server, host: string, port: number): Promise<Result<number>> {
  return new Promise((resolve) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      const message =
        error.code === "EADDRINUSE"
          ? `port ${port} is taken (another presenter or Jupyter?): try another one, e.g. --port ${port + 1}`
          : error.code === "EADDRNOTAVAIL"
            ? `--ip ${host} is not an address of this machine: try --ip 127.0.0.1`
            : error.code === "EACCES"
              ? `port ${port} needs special rights: use one from 1024 up, e.g. --port 8000`
              : `could not listen on ${host}:${port}: ${error.message}`;
      resolve(failed([{ message }]));
    });
    server.listen(port, host, () => {
      const address = server.address();
      resolve(ok(typeof address === "object" && address ? address.port : port));
    });
  });
}
