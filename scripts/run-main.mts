/**
 * How every `npm run` script ends (shared by scripts/ and bench/, not a command of
 * its own): its `main` says the exit code, and anything it throws is a bug in
 * rollcall, said once, the same way for every command.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { chalk } from "zx";

/**
 * Runs a script's `main` and sets `process.exitCode` from it (never `process.exit`,
 * so that output is flushed); a throw prints its stack and exits 1.
 *
 * @example
 * runMain("build", main); // at the end of scripts/build.mts
 */
export function runMain(command: string, main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof HelpShown) {
        process.exitCode = 0;
        return;
      }
      console.error(
        chalk.red(
          `rollcall ${command} failed (a bug, please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        ),
      );
      process.exitCode = 1;
    },
  );
}

/** `--help` was asked for and the usage printed: the command ends there, with 0. */
class HelpShown extends Error {}

/**
 * The command line as `config` reads it; on an unknown or malformed option, says
 * what was wrong and the usage, and gives undefined (the script then exits 2).
 * `--help` (or `-h`) prints the usage and ends the command with 0, for every command.
 *
 * @example
 * const parsed = readArgs(USAGE, { options: { out: { type: "string" } } });
 * if (!parsed) return 2;
 */
export function readArgs<T extends ParseArgsConfig>(usage: string, config: T): ReturnType<typeof parseArgs<T>> | undefined {
  const args = config.args ?? process.argv.slice(2);
  const end = args.indexOf("--");
  if ((end === -1 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h")) {
    console.log(usage);
    throw new HelpShown();
  }
  try {
    return parseArgs(config);
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    return undefined;
  }
}
