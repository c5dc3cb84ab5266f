/**
 * deploy/z2jh/, checked as far as it can be without a cluster: the YAML parses and uses only keys
 * the chart knows, its parts agree with each other and with the Dockerfile, the Dockerfile runs no
 * step the tests and CI do not, and the postStart hook hands the course out into a home.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { HUB_PACKAGES } from "../src/engine/debian-packages";
import { kernelSpecFile, kitConfigDir } from "../src/engine/jupyter-setup";
import { jupyterDataDir, projectRoot } from "../src/engine/paths";

const z2jh = path.join(projectRoot, "deploy", "z2jh");
const read = (file: string): string => readFileSync(path.join(z2jh, file), "utf8");
/** Where the Dockerfile puts the project (its WORKDIR before COPY). */
const IMAGE_ROOT = "/opt/rollcall";

// The keys of the jupyterhub chart's values.yaml at 2.0.0 (jupyterhub/zero-to-jupyterhub-k8s, tag 2.0.0).
const CHART_KEYS: Record<string, readonly string[]> = {
  "": [
    "fullnameOverride",
    "nameOverride",
    "custom",
    "imagePullSecret",
    "imagePullSecrets",
    "hub",
    "rbac",
    "proxy",
    "singleuser",
    "scheduling",
    "prePuller",
    "ingress",
    "cull",
    "debug",
    "global",
  ],
  singleuser: [
    "podNameTemplate",
    "extraTolerations",
    "nodeSelector",
    "extraNodeAffinity",
    "extraPodAffinity",
    "extraPodAntiAffinity",
    "networkTools",
    "cloudMetadata",
    "networkPolicy",
    "events",
    "extraAnnotations",
    "extraLabels",
    "extraFiles",
    "extraEnv",
    "lifecycleHooks",
    "initContainers",
    "extraContainers",
    "allowPrivilegeEscalation",
    "uid",
    "fsGid",
    "serviceAccountName",
    "storage",
    "image",
    "startTimeout",
    "cpu",
    "memory",
    "extraResource",
    "cmd",
    "defaultUrl",
    "extraPodConfig",
    "profileList",
  ],
  "singleuser.storage": ["type", "extraLabels", "extraVolumes", "extraVolumeMounts", "static", "capacity", "homeMountPath", "dynamic"],
  "singleuser.image": ["name", "tag", "pullPolicy", "pullSecrets"],
};

interface Mount {
  readonly name: string;
  readonly mountPath: string;
  readonly subPath?: string;
  readonly readOnly?: boolean;
}
interface Values {
  singleuser: {
    uid: number;
    image: { name: string };
    extraEnv: Record<string, string>;
    lifecycleHooks: { postStart: { exec: { command: string[] } } };
    initContainers: { command: string[]; volumeMounts: Mount[] }[];
    storage: {
      homeMountPath: string;
      extraVolumes: { name: string; persistentVolumeClaim: { claimName: string } }[];
      extraVolumeMounts: Mount[];
    };
  };
}

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
function dockerfile(): { readonly op: string; readonly args: string }[] {
  return read("Dockerfile")
    .replace(/\\\n/g, " ")
    .split("\n")
    .filter((line) => line.trim() && !line.trim().startsWith("#"))
    .map((line) => {
      const [op = "", ...rest] = line.trim().split(/\s+/);
      return { op, args: rest.join(" ") };
    });
}

test("the YAML files parse, and values.yaml uses only keys chart 2.0.0 knows", () => {
  for (const file of ["values.yaml", "exchange.yaml", "instructor.yaml"]) assert.doesNotThrow(() => parse(read(file)), file);
  const values = parse(read("values.yaml")) as Record<string, unknown>;
  for (const [at, known] of Object.entries(CHART_KEYS)) {
    const node = at === "" ? values : at.split(".").reduce<unknown>((n, k) => (n as Record<string, unknown> | undefined)?.[k], values);
    if (node === undefined) continue;
    for (const key of Object.keys(node as object)) assert.ok(known.includes(key), `${at || "(top)"}.${key} is no key of the chart`);
  }
});

test("values.yaml, the Dockerfile and the exchange agree: image, uid, home, mounts, submit folder, hook", () => {
  const { singleuser } = parse(read("values.yaml")) as Values;
  const steps = dockerfile();
  const workdirs = steps.filter((s) => s.op === "WORKDIR").map((s) => s.args);
  assert.equal(workdirs[0], IMAGE_ROOT);
  assert.equal(workdirs.at(-1), singleuser.storage.homeMountPath, "the server starts in the learner's home");
  assert.equal(steps.find((s) => s.op === "USER")?.args, "node");
  assert.equal(singleuser.uid, 1000, "the node image's node user is uid 1000");
  const claim = (parse(read("exchange.yaml")) as { metadata: { name: string }; spec: { accessModes: string[] } }).metadata.name;
  assert.deepEqual(
    singleuser.storage.extraVolumes.map((v) => v.persistentVolumeClaim.claimName),
    [claim],
  );
  const mounts = singleuser.storage.extraVolumeMounts;
  const inbound = mounts.find((m) => m.subPath === "inbound/{username}");
  const outbound = mounts.find((m) => m.subPath === "outbound/{username}");
  assert.equal(singleuser.extraEnv.ROLLCALL_SUBMIT_DIR, inbound?.mountPath, "submit() must drop into the learner's own inbound folder");
  assert.equal(outbound?.mountPath, path.posix.join(singleuser.storage.homeMountPath, "feedback"));
  assert.equal(outbound?.readOnly, true, "a learner must not write where feedback comes from");
  const init = singleuser.initContainers[0];
  assert.ok(init?.command.join(" ").includes("inbound/{username}") && init.command.join(" ").includes("outbound/{username}"));
  const [program, script] = singleuser.lifecycleHooks.postStart.exec.command;
  assert.equal(program, "node");
  assert.ok(
    script?.startsWith(`${IMAGE_ROOT}/`) && existsSync(path.join(projectRoot, script.slice(IMAGE_ROOT.length + 1))),
    `${script} is not in the project`,
  );
  const instructor = read("instructor.yaml");
  assert.ok(instructor.includes(`claimName: ${claim}`));
  // the learners' image is the Dockerfile's last stage; the instructor's pod runs its `instructor` stage
  assert.match(singleuser.image.name, /rollcall-singleuser$/);
  assert.match(instructor, /image: \S+\/rollcall-instructor:/);
  assert.ok(steps.some((s) => s.op === "FROM" && / AS instructor$/.test(s.args)));
  // the kernelspec and the kit's Jupyter config where image-setup.mjs writes them, as the hub's spawner sets them on one machine
  const env = new Map(steps.filter((s) => s.op === "ENV").map((s) => s.args.split("=", 2) as [string, string]));
  const dataDir = path.posix.join(IMAGE_ROOT, path.relative(projectRoot, jupyterDataDir));
  assert.equal(env.get("JUPYTER_PATH"), dataDir);
  assert.equal(env.get("JUPYTER_CONFIG_PATH"), path.posix.join(dataDir, path.basename(kitConfigDir(jupyterDataDir))));
});

test("every RUN step of the Dockerfile is one the tests and CI run", () => {
  const ci = readFileSync(path.join(projectRoot, ".ci", "run"), "utf8");
  const ciPackages = /packages=\(([^)]*)\)/.exec(ci)?.[1]?.trim().split(/\s+/) ?? [];
  const runs = dockerfile()
    .filter((s) => s.op === "RUN")
    .map((s) => s.args);
  for (const run of runs) {
    const apt = /apt-get install -y -qq ([a-z0-9 .+-]+?) &&/.exec(run);
    if (apt) {
      const packages = apt[1]?.split(" ") ?? [];
      assert.deepEqual([...packages].sort(), [...HUB_PACKAGES].sort(), "the image's Debian packages are the hub's");
      for (const p of packages) assert.ok(ciPackages.includes(p), `${p} is not installed by .ci/run`);
    } else if (run.startsWith("npm ")) assert.ok(ci.split("\n").includes(run), `${run} is not .ci/run's`);
    else if (run === "node deploy/z2jh/image-setup.mjs") {
      const done = spawnSync(process.execPath, [path.join(projectRoot, "deploy", "z2jh", "image-setup.mjs")], { encoding: "utf8" });
      assert.equal(done.status, 0, done.stderr);
      assert.ok(existsSync(kernelSpecFile(jupyterDataDir)));
    } else if (run === "ln -s /opt/rollcall/node_modules /home/node_modules")
      continue; // the image's alone: /home is the image's there
    else assert.fail(`RUN ${run}: no test or CI step runs this`);
  }
  assert.ok(runs.length >= 3);
});

/** What the learners' image (the Dockerfile's last stage) copies from the built project: paths under IMAGE_ROOT. */
function learnerImagePaths(): string[] {
  const steps = dockerfile();
  const last = steps.map((s) => s.op).lastIndexOf("FROM");
  return steps.slice(last).flatMap((s) => {
    if (s.op !== "COPY") return [];
    const from = s.args.split(" ").filter((a) => !a.startsWith("--"))[0] ?? "";
    assert.ok(s.args.includes("--from=instructor") && from.startsWith(`${IMAGE_ROOT}/`), `the learners' image copies ${s.args}`);
    return [path.posix.relative(IMAGE_ROOT, from)];
  });
}

test("the learners' image holds none of the lessons' answers, and nothing of the classes'", () => {
  // the lessons' sources (solutions, hidden tests), the instructor copies, the tests' right answers, rosters and logins
  const secret = ["lessons", "build", "dist/test", "dist/bench", "test", "bench", "classes", ".git"];
  for (const copied of learnerImagePaths())
    for (const s of secret)
      assert.ok(copied !== s && !s.startsWith(`${copied}/`) && !copied.startsWith(`${s}/`) && copied !== "", `${copied} holds ${s}`);
  const ignored = readFileSync(path.join(projectRoot, ".dockerignore"), "utf8").split("\n");
  for (const left of ["classes/", "build/", "node_modules/", "dist/"]) assert.ok(ignored.includes(left), `.dockerignore sends ${left}`);
});

test("the learners' image has what the postStart hook runs: it hands the course out from a copy of just that", async () => {
  const image = await mkdtemp(path.join(os.tmpdir(), "rollcall-learner-image-"));
  try {
    for (const copied of learnerImagePaths()) {
      const target = path.join(image, copied);
      await mkdir(path.dirname(target), { recursive: true });
      // node_modules by a link: 1 GB to copy, and the hook's imports resolve through it alike
      if (copied === "node_modules") await symlink(path.join(projectRoot, copied), target);
      else await cp(path.join(projectRoot, copied), target, { recursive: true });
    }
    const home = path.join(image, "home");
    await mkdir(home);
    const done = spawnSync(process.execPath, [path.join(image, "deploy", "z2jh", "post-start.mjs")], {
      env: { ...process.env, HOME: home },
      encoding: "utf8",
    });
    assert.equal(done.status, 0, done.stderr);
    assert.equal(done.stderr, "");
    assert.match(done.stdout, /rollcall: 01-arrays\.ipynb: copied/);
  } finally {
    await rm(image, { recursive: true, force: true });
  }
});

test("the postStart hook hands the course out into the home it runs in", async () => {
  const home = await mkdtemp(path.join(os.tmpdir(), "rollcall-post-start-"));
  try {
    const done = spawnSync(process.execPath, [path.join(z2jh, "post-start.mjs")], {
      env: { ...process.env, HOME: home },
      encoding: "utf8",
    });
    assert.equal(done.status, 0, done.stderr);
    assert.equal(done.stderr, "");
    const course = await readdir(path.join(home, "course"));
    const notebooks = (await readdir(path.join(projectRoot, "notebooks"))).filter((f) => f.endsWith(".ipynb"));
    for (const n of notebooks) assert.ok(course.includes(n), `${n} was not handed out`);
    assert.match(done.stdout, /rollcall: 01-arrays\.ipynb: copied/);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
