// The learner's server's postStart hook (values.yaml): hands the course out into the learner's
// home (~/course/), by the same rule as `npm run hub -- --hand-out` on one machine: an edited
// notebook is never overwritten, the new version arrives beside it. It always exits 0 (a failing
// postStart hook would kill the learner's server) and says what went wrong on stderr, which
// `kubectl logs` does not show: see `kubectl describe pod` events, or ~/course/ itself.
import os from "node:os";
import { fileURLToPath } from "node:url";
import handOutModule from "../../dist/src/engine/hand-out.js";

const notebooks = fileURLToPath(new URL("../../notebooks", import.meta.url));
const home = process.env.HOME ?? os.homedir();
const result = await handOutModule.handOut(home, process.getuid(), process.getgid(), notebooks);
if (result.ok) for (const line of handOutModule.describeHandOut(result.value)) console.log(`rollcall: ${line}`);
else for (const problem of result.problems) console.error(`rollcall: hand-out: ${problem.file ?? ""} ${problem.message}`);
