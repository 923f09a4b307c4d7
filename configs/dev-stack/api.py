"""The stack's API: counts the jobs the workers did (in Redis) and says so."""
import http.server
import os
import socket

REDIS = ("127.0.0.1", int(os.environ["REDIS_PORT"]))
VERSION = "1"


def redis(*args: str) -> bytes:
    """One command in Redis's wire protocol; its raw reply."""
    with socket.create_connection(REDIS) as s:
        s.sendall(f"*{len(args)}\r\n".encode() + b"".join(f"${len(a)}\r\n{a}\r\n".encode() for a in args))
        return s.recv(4096)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            body = b"ok\n"
        else:
            jobs = redis("GET", "jobs").split(b"\r\n")
            body = f"api v{VERSION}: {jobs[1].decode() if len(jobs) > 2 else 0} jobs done\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print("api:", fmt % args, flush=True)


print(f"api v{VERSION} on port {os.environ['PORT']}", flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
