"""Runs app.py with uvicorn on HOST (default 127.0.0.1) and PORT (default 8000; 0 = any free port).

Binds the socket first and prints ``LISTENING <port>`` so a supervisor (or a test) knows where
it runs without guessing a free port.
"""
import os
import socket
import sys

import uvicorn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from app import app  # noqa: E402

host = os.environ.get("HOST", "127.0.0.1")
port = int(os.environ.get("PORT", "8000"))
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind((host, port))
print(f"LISTENING {sock.getsockname()[1]}", flush=True)
uvicorn.Server(uvicorn.Config(app, log_level=os.environ.get("LOG_LEVEL", "warning"))).run(sockets=[sock])
