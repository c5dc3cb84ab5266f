/** Where things live in the project, found from this file's place in dist/src/engine/. */
import path from "node:path";

export const projectRoot = path.resolve(__dirname, "..", "..", "..");
export const lessonsDir = path.join(projectRoot, "lessons");
export const notebooksDir = path.join(projectRoot, "notebooks");
/** Generated, not committed: instructor copies (build/instructor). */
export const buildDir = path.join(projectRoot, "build");
export const instructorDir = path.join(buildDir, "instructor");
/** This project's own Jupyter data folder (JUPYTER_PATH): its kernelspec lives here, not in the user's. */
export const jupyterDataDir = path.join(projectRoot, ".jupyter");
