"""The platform's SMTP sink: ``python -m evp.up.mailsink --maildir DIR [--port P]``.

``evp up`` runs one for the whole platform (every notifications instance sends to it)
unless ``NOTIFICATIONS_SMTP_HOST`` is set. It accepts every message and keeps it in a
Maildir (aiosmtpd's ``Mailbox`` handler), so mail can be read after the fact with any mail
tool or Python's ``mailbox.Maildir``. It prints ``evp mailsink: listening on HOST:PORT``
once it accepts connections, and stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Sequence
from pathlib import Path

from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP

__all__ = ["main", "serve"]

_HOSTNAME = "sink.evp.local"  # aiosmtpd's default would ask DNS for the machine's name


async def serve(maildir: Path, host: str = "127.0.0.1", port: int = 0) -> None:
    """Accept mail into ``maildir`` until SIGTERM or SIGINT."""
    # Only the parent: mailbox.Maildir creates tmp/, new/ and cur/ only when it creates the
    # folder itself, and without tmp/ every delivery fails.
    maildir.parent.mkdir(parents=True, exist_ok=True)
    handler = Mailbox(maildir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname=_HOSTNAME), host=host, port=port
    )
    bound_host, bound_port = server.sockets[0].getsockname()[:2]
    print(f"evp mailsink: listening on {bound_host}:{bound_port}", flush=True)
    stopped = asyncio.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stopped.set)
    async with server:
        await stopped.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sink; the exit status."""
    parser = argparse.ArgumentParser(prog="python -m evp.up.mailsink", description=__doc__)
    parser.add_argument("--maildir", type=Path, required=True, help="where messages are kept")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="default: any free port")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.maildir, args.host, args.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
