/** The presenter as the course runs it: a lesson's instructor deck, built afresh, and the notebooks' own kernel. */
import path from "node:path";
import { buildLesson } from "./build.js";
import { JupyterKernel } from "./kernel-client.js";
import { kitKernelCommand } from "./tslab-snapshot.js";
import { loadLesson } from "./lesson-files.js";
import { notebooksDir, projectRoot } from "./paths.js";
import type { PresenterOptions } from "./present-server.js";
import { ok } from "./problem.js";
import { deckOf } from "./slides.js";

export function coursePresenter(lessonId: string): Pick<PresenterOptions, "loadDeck" | "startKernel" | "folders"> {
  return {
    loadDeck: async () => {
      const lesson = await loadLesson(lessonId);
      return lesson.ok ? ok(deckOf(lesson.value, buildLesson(lesson.value), "instructor")) : lesson;
    },
    // The kernel every notebook of the course gets: tslab, in notebooks/, as npm run execute starts it.
    startKernel: () => JupyterKernel.start(kitKernelCommand(projectRoot), { cwd: notebooksDir }),
    folders: {
      reveal: path.join(projectRoot, "node_modules", "reveal.js", "dist"),
      page: path.join(projectRoot, "src", "engine", "present-page"),
      files: notebooksDir,
    },
  };
}
