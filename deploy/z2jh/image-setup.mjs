// Run by deploy/z2jh/Dockerfile once the project is built: writes the kit's TypeScript kernel
// into the project's own Jupyter folder (.jupyter/, the image's JUPYTER_PATH), as `npm start` does.
import jupyterSetup from "../../dist/src/engine/jupyter-setup.js";
import paths from "../../dist/src/engine/paths.js";

const folder = await jupyterSetup.installKernelSpec(paths.jupyterDataDir, paths.projectRoot);
console.log(`rollcall: TypeScript kernel in ${folder}`);
