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

# jupyter_client 7 parses the dates in every message's header with dateutil, and
# Notebook 6 deserializes each of a kernel's messages twice (once to record the
# kernel's activity, once for the websocket), each with its parent's header, which is
# the same for every message of a cell: on a class server that parsing was a third of
# a learner's server's CPU for each cell. The same string always parses to the same
# datetime (an immutable value), so each is parsed once and the answer kept (the last
# 512); an error is never kept, and raised again each time.
try:
    import functools as _functools

    from jupyter_client import jsonutil as _jsonutil
except ImportError:  # no jupyter_client here
    _jsonutil = None

if _jsonutil is not None and callable(getattr(_jsonutil, "_dateutil_parse", None)) and not getattr(_jsonutil, "rollcall_kept_dates", False):
    _jsonutil._dateutil_parse = _functools.lru_cache(maxsize=512)(_jsonutil._dateutil_parse)
    _jsonutil.rollcall_kept_dates = True
