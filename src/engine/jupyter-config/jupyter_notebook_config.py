# The kit's Jupyter config, for Notebook 6 (Debian's, and the one JupyterHub's
# single-user server runs): installed beside the kit's kernelspec and put on
# JUPYTER_CONFIG_PATH by `npm start` and by the class server.
#
# Notebook 6 leaves Nagle's algorithm on for a kernel's websocket. A cell's reply is
# several small messages (busy, output, reply, idle); the second waits until the
# browser acknowledges the first, and a browser with nothing to send delays its
# acknowledgement (40 ms on Linux). So every cell came back about 30 ms late, even
# alone on the server. Tornado's advice is to switch Nagle off once the websocket is
# open; this does that for Notebook 6's kernel websockets (Notebook 7's server is not
# changed).
try:
    from notebook.services.kernels.handlers import ZMQChannelsHandler
except ImportError:  # not Notebook 6
    ZMQChannelsHandler = None

if ZMQChannelsHandler is not None and not getattr(ZMQChannelsHandler, "rollcall_nodelay", False):
    _open = ZMQChannelsHandler.open

    def _open_without_nagle(self, *args, **kwargs):
        try:
            self.set_nodelay(True)
        except Exception as error:  # a faster websocket is never worth a lost one
            self.log.warning("Nagle's algorithm stays on for this kernel websocket: %s", error)
        return _open(self, *args, **kwargs)

    ZMQChannelsHandler.open = _open_without_nagle
    ZMQChannelsHandler.rollcall_nodelay = True
