// Run by deploy/z2jh/Dockerfile once the project is built: the kit's TypeScript kernel, with its
// start-up snapshot, into the project's own Jupyter folder (.jupyter/, the image's JUPYTER_PATH),
// as `npm start` does. Without the snapshot every learner's kernel would start on about twice the CPU.
import jupyterSetup from "../../dist/src/engine/jupyter-setup.js";
import paths from "../../dist/src/engine/paths.js";

const { folder, problems } = await jupyterSetup.installKitKernel(paths.jupyterDataDir, paths.projectRoot);
for (const problem of problems) console.error(`rollcall: no start-up snapshot for the kernel: ${problem.message}`);
console.log(`rollcall: TypeScript kernel in ${folder}${problems.length ? " (plain tslab)" : " (from its start-up snapshot)"}`);
