"""The console: one web page to watch and use the running platform.

``evp up`` serves it (:func:`serve_console`) on the loopback interface: an overview of every
process, the shop as a customer sees it, analytics, sagas, the event catalogue (also as an
AsyncAPI 3 document), dead letters and the mail the SMTP sink received.
"""

from evp.console.app import console_app
from evp.console.platform import Platform, ProcessInfo, ProcessSource
from evp.console.server import serve_console

__all__ = ["Platform", "ProcessInfo", "ProcessSource", "console_app", "serve_console"]
