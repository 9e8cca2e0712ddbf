"""Run the explorer: uvicorn serving :func:`upconv.web.app.create_app` on 127.0.0.1 only.

:func:`bind` opens the listening socket (port 0: a free one, chosen by the
system) so that the address is known before the server starts;
:func:`make_server` builds the uvicorn server (quiet: warnings only, no
access log); :func:`serve` warms the library up (the first call of a
compiled kernel loads it), prints the address, opens the browser when asked
and serves until Ctrl-C.  uvicorn is imported when a server is made.
"""

from __future__ import annotations

import socket
import threading
import webbrowser
from collections.abc import Callable

from upconv.web import api

__all__ = ["HOST", "bind", "make_server", "warm_up", "serve"]

#: The only address the explorer listens on.
HOST = "127.0.0.1"


def bind(port: int = 0) -> socket.socket:
    """A listening TCP socket on ``127.0.0.1:port`` (0: a free port); OSError when the port is taken."""
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
        raise ValueError(f"upconv serve: port must be an integer from 0 to 65535, got {port!r}")
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on the accepted connections only then; without it a
    # response written in two parts waits ~40 ms for the client's delayed ACK on a kept-alive connection
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def make_server(sock: socket.socket):
    """A uvicorn ``Server`` for the explorer's app on ``sock`` (run it with ``server.run(sockets=[sock])``)."""
    try:
        import uvicorn
    except ImportError as exc:
        raise ImportError(
            f"the explorer needs the [web] extra (starlette, uvicorn): pip install 'upconv[web]' ({exc})"
        ) from None
    from upconv.web.app import create_app

    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(create_app(), host=host, port=port, log_level="warning", access_log=False,
                            lifespan="off", server_header=False, proxy_headers=False)
    return uvicorn.Server(config)


def warm_up() -> None:
    """Compute the default page once (loads the compiled kernels), so that the first request is fast."""
    api.views_payload([])
    api.checkerboard_payload([])


def serve(port: int = 0, *, open_browser: bool = True, announce: Callable[[str], None] = print) -> None:
    """Serve the explorer on ``http://127.0.0.1:port/`` until interrupted (KeyboardInterrupt after Ctrl-C).

    ``announce`` receives the address line once the socket is bound;
    ``open_browser`` opens the page in the default browser once the server
    is up.
    """
    sock = bind(port)
    try:
        server = make_server(sock)
        warm_up()
        url = f"http://{HOST}:{sock.getsockname()[1]}/"
        announce(f"upconv explorer: {url}  (Ctrl-C to stop)")
        if open_browser:
            def opener() -> None:
                for _ in range(100):  # wait up to 10 s for the server to listen
                    if server.started:
                        webbrowser.open(url)
                        return
                    threading.Event().wait(0.1)

            threading.Thread(target=opener, daemon=True).start()
        server.run(sockets=[sock])
    finally:
        sock.close()
