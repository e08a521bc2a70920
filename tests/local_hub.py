"""A stand-in for the Hugging Face hub on 127.0.0.1, for tests of the download path.

It answers what huggingface_hub asks for when transformers loads a model, as
huggingface.co does: HEAD and GET of /{repo}/resolve/{revision}/{file}, with the commit,
the ETag (the sha256 of a file, as for the hub's LFS files, which the cache then names its
blob after) and the size, GET honouring `Range: bytes=N-` (resumed downloads); and the
model info and file tree of /api/models/{repo}[/revision|tree/{revision}[/{folder}]].
A missing file or folder is a 404 with `X-Error-Code: EntryNotFound`, and a renamed repo
(`gpt2` is now `openai-community/gpt2`) a relative 307 redirect, as on the hub.

It serves loopback only, answers each request in its own thread, and stops itself
after `lifetime` seconds even when a test forgets to.
"""

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COMMIT = "607a30d783dfa663caf39e06633721c8d4cfcd7e"  # any 40 hex digits: the revision "main" points at
RESOLVE = re.compile(r"^/(?P<repo>.+?)/resolve/(?P<revision>[^/]+)/(?P<file>[^?]+)")
API = re.compile(r"^/api/models/(?P<repo>.+?)(?P<rest>/(?P<kind>revision|tree)/(?P<revision>[^/?]+)(?:/(?P<folder>[^?]*))?)?(?:\?.*)?$")
RANGE = re.compile(r"^bytes=(\d+)-$")


class LocalHub:
    """`with LocalHub({"openai-community/gpt2": folder}, renamed={"gpt2": "openai-community/gpt2"}) as hub:`

    `hub.url` is the endpoint (for HF_ENDPOINT), `hub.requests` lists (method, path, range)
    of every request. `hub.stall(file, after_bytes)` makes the next GET of `file` send that
    many bytes and then hang until `hub.release()` (or the handler's timeout), as a
    connection that dies halfway through a download does.
    """

    def __init__(self, repos, renamed=None, lifetime=600.0):
        self.files = {repo: {path.name: path for path in Path(folder).iterdir() if path.is_file()}
                      for repo, folder in repos.items()}
        self.renamed = dict(renamed or {})
        self.lifetime = lifetime
        self.requests = []
        self.etags = {}
        self._stalls = {}
        self._released = threading.Event()
        self.stalled = threading.Event()  # set once a stalled GET has sent its bytes
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._timer = threading.Timer(lifetime, self.close)
        self._timer.daemon = True

    @property
    def url(self):
        host, port = self._server.server_address
        return f"http://{host}:{port}"

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self._timer.start()
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        self._timer.cancel()
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def stall(self, filename, after_bytes):
        self._released.clear()
        self.stalled.clear()
        self._stalls[filename] = after_bytes

    def release(self):
        self._released.set()

    def etag(self, path):
        if path not in self.etags:
            self.etags[path] = hashlib.sha256(path.read_bytes()).hexdigest()
        return self.etags[path]

    def _handler_class(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 60  # a client that goes quiet does not hold a thread for ever

            def do_HEAD(self):
                self._answer(send_body=False)

            def do_GET(self):
                self._answer(send_body=True)

            def _answer(self, send_body):
                hub.requests.append((self.command, self.path, self.headers.get("Range")))
                match = RESOLVE.match(self.path) or API.match(self.path)
                if match is None or match["repo"] not in hub.files.keys() | hub.renamed.keys():
                    return self._not_found("RepoNotFound")
                repo = match["repo"]
                if repo in hub.renamed:  # the same path under the repo's new name
                    start, end = match.span("repo")
                    target = self.path[:start] + hub.renamed[repo] + self.path[end:]
                    return self._headers(307, {"Location": target, "Content-Length": "0"})
                files = hub.files[repo]
                if "file" not in match.groupdict():
                    return self._api(repo, files, match, send_body)
                if match["file"] not in files:
                    return self._not_found("EntryNotFound")
                self._send_file(files[match["file"]], send_body)

            def _api(self, repo, files, match, send_body):
                if match["kind"] == "tree":
                    if match["folder"]:  # the repo has no folders
                        return self._not_found("EntryNotFound")
                    answer = [{"type": "file", "path": name, "size": path.stat().st_size, "oid": hub.etag(path)}
                              for name, path in sorted(files.items())]
                else:
                    answer = {"id": repo, "modelId": repo, "sha": COMMIT, "private": False, "gated": False,
                              "disabled": False, "tags": ["transformers", "gpt2"], "library_name": "transformers",
                              "siblings": [{"rfilename": name} for name in sorted(files)]}
                body = json.dumps(answer).encode()
                self._headers(200, {"Content-Type": "application/json", "Content-Length": str(len(body))})
                if send_body:
                    self.wfile.write(body)

            def _send_file(self, path, send_body):
                size = path.stat().st_size
                start = 0
                requested = RANGE.match(self.headers.get("Range") or "")
                if requested:
                    start = min(int(requested[1]), size)
                headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{hub.etag(path)}"', "Accept-Ranges": "bytes",
                           "Content-Length": str(size - start),
                           "Content-Disposition": f"inline; filename*=UTF-8''{path.name}; filename=\"{path.name}\";"}
                if requested:
                    headers["Content-Range"] = f"bytes {start}-{size - 1}/{size}"
                self._headers(206 if requested else 200, headers)
                if not send_body:
                    return
                stall_at = hub._stalls.pop(path.name, None)
                with open(path, "rb") as file:
                    file.seek(start)
                    sent = 0
                    while chunk := file.read(1 << 20):
                        if stall_at is not None and sent + len(chunk) >= stall_at:
                            self.wfile.write(chunk[: stall_at - sent])
                            self.wfile.flush()
                            hub.stalled.set()
                            hub._released.wait(self.timeout)
                            self.close_connection = True
                            return
                        self.wfile.write(chunk)
                        sent += len(chunk)

            def _not_found(self, code):
                self._headers(404, {"X-Error-Code": code, "X-Error-Message": f"{code}: {self.path}",
                                    "Content-Length": "0"})

            def _headers(self, status, headers):
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()

            def log_message(self, *args):
                pass  # the test reads hub.requests instead

        return Handler
