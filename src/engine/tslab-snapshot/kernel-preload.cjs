// Loaded before tslab (`node -r`) by the kit's kernel, from its snapshot or as plain tslab.
// It changes how tslab binds its five sockets (ZmqServer.bindSocket in tslab/dist/jupyter.js):
//
// 1. Over Jupyter's ipc transport, tslab 1.0.22 binds `ipc://PATH:PORT`, where Jupyter
//    connects to `ipc://PATH-PORT`: the kit's kernel binds where Jupyter connects. On a
//    class server the learners' servers run kernels over ipc (the kit's Jupyter config):
//    Unix sockets in the learner's own runtime folder, where no other learner can connect,
//    where a TCP port on loopback is open to every user of the machine (an output channel
//    has no password: anyone who connects hears every output).
// 2. tslab only logs a bind that fails, and runs on, deaf: its server's requests reach
//    whatever holds that port, and its cells never answer. The kernel now stops, saying
//    why, and whoever started it starts it again on other ports (Jupyter, the kit's client).
"use strict";
const Module = require("node:module");

const load = Module._load;
Module._load = function loadThenHook(request, parent, isMain) {
  const loaded = load.call(this, request, parent, isMain);
  const server = loaded && loaded.ZmqServer;
  if (typeof server === "function" && typeof server.prototype.bindSocket === "function" && /tslab/.test(parent?.filename ?? "")) {
    Module._load = load; // once: tslab's jupyter.js is loaded once
    server.prototype.bindSocket = async function bindSocket(sock, port) {
      const { transport, ip } = this.connInfo;
      const address = transport === "ipc" ? `ipc://${ip}-${port}` : `${transport}://${ip}:${port}`;
      try {
        await sock.bind(address);
      } catch (error) {
        process.stderr.write(
          `the kernel could not bind address: '${address}' (${error.code}: ${error.message}); it stops, to be started again on other ports\n`,
        );
        process.exit(1);
      }
    };
  }
  return loaded;
};
