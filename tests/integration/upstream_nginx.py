"""upstream_nginx.py: a plain nginx on loopback (Debian's, no gatehouse
module) that serves the bundled trees of data/ as static files, the way a
simple management API backend would, for gatehouse in gateway mode to guard.

    up = UpstreamNginx(base_dir)                       # plain HTTP on 127.0.0.1
    up = UpstreamNginx(base_dir, tls=UpstreamPki(d))   # HTTPS, a test CA
    up = UpstreamNginx(base_dir, tls=pki, client_ca=pki.ca)  # and client certificates
    up = UpstreamNginx(base_dir, unix=True)            # a unix socket (up.socket)
    ...
    up.stop()

What it serves: GET of a path P answers data/P/index.json (or data/P) as
application/json (under /ovirt-engine, data/P/index.xml as application/xml
unless Accept names JSON, as the engine chooses); /redfish and /redfish/v1/ answer a small
version object and service root of its own, and /ovirt-engine/api the
engine's <api> root (the bundled tree has neither: gatehouse renders its
own). Every answer carries `X-Upstream: upstream-nginx`, so a test can tell
the upstream's answer from gatehouse's bundled tree. /redfish/v1/UpstreamEcho
answers, as JSON, the Host, Connection, Upgrade and Authorization headers it
received. Nothing else: a POST gets nginx's 405. seen() lists the requests it
answered (its access log).

It runs as root's child in its own process group and stops by PID; as root
its workers run as nobody, and a unix socket is made writable for anyone
(gatehouse's workers run as the data directory's owner).
"""

import os
import signal
import subprocess
import time
from pathlib import Path

from gatehouse_harness import REPO, free_port

NGINX = "/usr/sbin/nginx"
MARK = "upstream-nginx"

SERVICE_ROOT = """{
  "@odata.id": "/redfish/v1/",
  "@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot",
  "Id": "RootService",
  "Name": "Upstream Root Service",
  "RedfishVersion": "1.6.0",
  "UUID": "92384634-2938-2342-8820-489239905423",
  "Systems": {"@odata.id": "/redfish/v1/Systems"},
  "Chassis": {"@odata.id": "/redfish/v1/Chassis"},
  "Managers": {"@odata.id": "/redfish/v1/Managers"},
  "SessionService": {"@odata.id": "/redfish/v1/SessionService"},
  "AccountService": {"@odata.id": "/redfish/v1/AccountService"},
  "Links": {"Sessions": {"@odata.id": "/redfish/v1/SessionService/Sessions"}}
}
"""

# The oVirt engine's API root, as the engine answers GET /ovirt-engine/api.
OVIRT_ROOT_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<api>'
    '<link href="/ovirt-engine/api/clusters" rel="clusters"/>'
    '<link href="/ovirt-engine/api/hosts" rel="hosts"/>'
    '<link href="/ovirt-engine/api/vms" rel="vms"/>'
    '<product_info><name>oVirt Engine (upstream)</name><vendor>ovirt.org</vendor>'
    '<version><build>0</build><full_version>4.5.4</full_version><major>4</major>'
    '<minor>5</minor><revision>0</revision></version></product_info>'
    '<time>2026-01-01T00:00:00.000+00:00</time></api>\n')

OVIRT_ROOT_JSON = """{
  "link": [
    {"href": "/ovirt-engine/api/clusters", "rel": "clusters"},
    {"href": "/ovirt-engine/api/hosts", "rel": "hosts"},
    {"href": "/ovirt-engine/api/vms", "rel": "vms"}
  ],
  "product_info": {"name": "oVirt Engine (upstream)", "vendor": "ovirt.org",
                   "version": {"build": "0", "full_version": "4.5.4", "major": "4",
                               "minor": "5", "revision": "0"}}
}
"""

CONF = """\
{user}
worker_processes 1;
pid "{dir}/nginx.pid";
error_log "{dir}/error.log" info;
events {{ worker_connections 256; }}
http {{
    log_format seen '$request_method $request_uri $status';
    access_log "{dir}/access.log" seen;
    client_body_temp_path "{dir}/tmp";
    proxy_temp_path "{dir}/tmp";
    fastcgi_temp_path "{dir}/tmp";
    uwsgi_temp_path "{dir}/tmp";
    scgi_temp_path "{dir}/tmp";
    keepalive_requests 100000;
    types {{ application/json json; application/xml xml; }}
    # the oVirt engine answers XML unless Accept asks for JSON
    map $http_accept $ovirt_doc {{ default xml; "~*json" json; }}
    server {{
        listen {listen};
{tls}
        root "{root}";
        default_type application/json;
        add_header X-Upstream {mark} always;

        location ~ ^/redfish/?$ {{ root "{own}"; try_files /version.json =404; }}
        location ~ ^/redfish/v1/?$ {{ root "{own}"; try_files /root.json =404; }}
        location ~ ^/ovirt-engine/api/?$ {{ root "{own}"; try_files /api.$ovirt_doc =404; }}
        location /ovirt-engine/ {{
            try_files $uri/index.$ovirt_doc $uri/index.json $uri =404;
        }}
        location = /redfish/v1/UpstreamEcho {{
            return 200 '{{"Host": "$http_host", "Connection": "$http_connection", "Upgrade": "$http_upgrade", "Authorization": "$http_authorization"}}';
        }}
        location / {{
            try_files $uri/index.json $uri =404;
        }}
    }}
}}
"""


class UpstreamPki:
    """A test CA, a server certificate for 127.0.0.1 and `upstream.test`,
    and a client certificate, made with the openssl command."""

    def __init__(self, directory, name="upstream.test"):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.name = name
        self.ca, self.ca_key = self.dir / "ca.pem", self.dir / "ca.key"
        self.cert, self.key = self.dir / "server.pem", self.dir / "server.key"
        self.client_cert, self.client_key = self.dir / "client.pem", self.dir / "client.key"
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-nodes", "-keyout", self.ca_key, "-out", self.ca, "-days", "2",
                      "-subj", f"/CN=gatehouse test upstream CA {self.dir.name}")
        self._issue(self.cert, self.key, "/CN=" + name,
                    f"subjectAltName=DNS:{name},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        self._issue(self.client_cert, self.client_key, "/CN=gatehouse",
                    "extendedKeyUsage=clientAuth\n")
        for f in (self.ca, self.cert, self.client_cert):
            os.chmod(f, 0o644)

    def _openssl(self, *args):
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True,
                       timeout=60)

    def _issue(self, cert, key, subject, ext):
        csr, extfile = cert.with_suffix(".csr"), cert.with_suffix(".ext")
        extfile.write_text(ext)
        self._openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                      "-keyout", key, "-out", csr, "-subj", subject)
        self._openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                      "-CAcreateserial", "-days", "2", "-out", cert, "-extfile", extfile)

    def give_key_to(self, uid, gid):
        """The client key readable by uid alone (whoever runs gatehouse's nginx)."""
        os.chown(self.client_key, uid, gid)
        os.chmod(self.client_key, 0o600)


class UpstreamNginx:
    def __init__(self, base_dir, name="upstream", tls=None, client_ca=None, unix=False):
        self.dir = Path(base_dir) / f"{name}-{os.getpid()}-{time.monotonic_ns()}"
        (self.dir / "tmp").mkdir(parents=True)
        (self.dir / "own").mkdir()
        os.chmod(self.dir, 0o755)
        os.chmod(self.dir / "own", 0o755)
        (self.dir / "own" / "version.json").write_text('{"v1": "/redfish/v1/"}\n')
        (self.dir / "own" / "root.json").write_text(SERVICE_ROOT)
        (self.dir / "own" / "api.xml").write_text(OVIRT_ROOT_XML)
        (self.dir / "own" / "api.json").write_text(OVIRT_ROOT_JSON)
        for f in ("version.json", "root.json", "api.xml", "api.json"):
            os.chmod(self.dir / "own" / f, 0o644)
        self.tls = tls
        self.socket = self.dir / "upstream.sock" if unix else None
        self.port = None if unix else free_port()
        listen = f"unix:{self.socket}" if unix else f"127.0.0.1:{self.port}"
        tls_lines = ""
        if tls is not None:
            listen += " ssl"
            tls_lines = (f'        ssl_certificate "{tls.cert}";\n'
                         f'        ssl_certificate_key "{tls.key}";\n')
            if client_ca is not None:
                tls_lines += ("        ssl_verify_client on;\n"
                              f'        ssl_client_certificate "{client_ca}";\n')
        user = "user nobody nogroup;" if os.geteuid() == 0 else ""
        (self.dir / "nginx.conf").write_text(CONF.format(
            user=user, dir=self.dir, listen=listen, tls=tls_lines, root=REPO / "data",
            own=self.dir / "own", mark=MARK))
        with open(self.dir / "stderr.log", "wb") as stderr:
            self.proc = subprocess.Popen(
                [NGINX, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"),
                 "-e", str(self.dir / "error.log"), "-g", "daemon off;"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                start_new_session=True)
        deadline = time.monotonic() + 20
        while not self._listening():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"upstream nginx did not start:\n{self.log()}")
            time.sleep(0.02)
        if unix:
            os.chmod(self.socket, 0o666)

    @property
    def url(self):
        if self.socket is not None:
            return f"unix:{self.socket}"
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def _listening(self):
        if self.socket is not None:
            return self.socket.exists()
        import socket
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            return True
        except OSError:
            return False

    def seen(self):
        """["METHOD URI STATUS", ...]: every request the upstream answered."""
        try:
            return (self.dir / "access.log").read_text().splitlines()
        except OSError:
            return []

    def log(self):
        text = ""
        for name in ("stderr.log", "error.log"):
            try:
                text += (self.dir / name).read_text(errors="replace")
            except OSError:
                pass
        return text

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
